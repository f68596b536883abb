namespace GanOnnx.WebSample;

/// <summary>The sample's one page: a grid of generated images and a button that reseeds it.</summary>
internal static class Page
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>GanOnnx sample</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; background: #fafafa; }
  img { image-rendering: pixelated; width: 480px; border: 1px solid #ccc; background: #000; }
  button { font-size: 1rem; padding: 0.4rem 1rem; margin-right: 1rem; }
</style>
</head>
<body>
<h1>GanOnnx: generated images</h1>
<p><button id="reseed">Reseed</button> seed <span id="seed">42</span> <span id="status"></span></p>
<img id="grid" alt="A grid of generated images" src="/grid?seed=42&count=16">
<script>
  const img = document.getElementById('grid');
  const seedText = document.getElementById('seed');
  const status = document.getElementById('status');
  img.addEventListener('load', () => { status.textContent = 'loaded'; });
  img.addEventListener('error', () => { status.textContent = 'failed to load'; });
  document.getElementById('reseed').addEventListener('click', () => {
    const seed = Math.floor(Math.random() * 1000000) + 1;
    seedText.textContent = String(seed);
    status.textContent = 'loading';
    img.src = '/grid?seed=' + seed + '&count=16';
  });
</script>
</body>
</html>
""";
}
