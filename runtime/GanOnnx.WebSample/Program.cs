// A sample ASP.NET Core app that serves generated images:
//   dotnet run --project runtime/GanOnnx.WebSample -- --Generator:ModelPath=models/mnist-dcgan/model.onnx --urls http://127.0.0.1:5080
var app = GanOnnx.WebSample.SampleApp.Build(args);
app.Run();
