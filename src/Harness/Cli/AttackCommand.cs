using System.CommandLine;
using DefenseBench.Attacks.Common;
using DefenseBench.Harness.Audit;

namespace DefenseBench.Harness.Cli;

internal static class AttackCommand
{
    public static Command Create(TextWriter output)
    {
        var name = new Argument<string>("attack") { Description = $"a label attack that reads the last layer alone: {string.Join(", ", UpdateAudit.Auditable())}" };
        var update = new Option<string>("--update")
        {
            Description = "safetensors file with fc.weight, fc.bias, grad.fc.weight, grad.fc.bias and batch_size (optionally num_classes, steps) in __metadata__",
            Required = true,
        };
        var batch = new Option<int?>("--batch-size") { Description = "the batch size B behind the update (overrides the file's metadata)" };
        var classes = new Option<int?>("--num-classes") { Description = "the number of classes C (checked against the last layer's rows)" };
        var steps = new Option<int?>("--steps") { Description = "local steps U of a FedAvg update whose gradient is the sum over steps (default: metadata, else 1)" };
        var known = new Option<string?>("--classes") { Description = "the classes known to be present, e.g. 3,17,42 (ilrg-sim)" };
        var parameters = new Option<string[]>("--param") { Description = "an attack parameter NAME=VALUE (repeatable), e.g. sum_to_batch=on", AllowMultipleArgumentsPerToken = false };
        var defaults = new LastLayerNames();
        var weight = new Option<string>("--weight") { Description = "name of the FC weight tensor", DefaultValueFactory = _ => defaults.Weight };
        var bias = new Option<string>("--bias") { Description = "name of the FC bias tensor", DefaultValueFactory = _ => defaults.Bias };
        var weightGrad = new Option<string>("--weight-grad") { Description = "name of the FC weight-gradient tensor", DefaultValueFactory = _ => defaults.WeightGrad };
        var biasGrad = new Option<string>("--bias-grad") { Description = "name of the FC bias-gradient tensor", DefaultValueFactory = _ => defaults.BiasGrad };
        foreach (var option in new[] { batch, classes, steps })
            option.Validators.Add(r =>
            {
                if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, out int n) && n < 1) r.AddError($"{option.Name} {n}: write a positive integer");
            });
        var command = new Command("attack", "Run a label attack on an update captured from your own FL system; prints one JSON object (counts, present, ...).")
        {
            name, update, batch, classes, steps, known, parameters, weight, bias, weightGrad, biasGrad,
        };
        command.SetAction(parse =>
        {
            var request = new AuditRequest(
                parse.GetValue(name)!, parse.GetValue(update)!, parse.GetValue(parameters) ?? [],
                new LastLayerFile.Overrides(parse.GetValue(batch), parse.GetValue(classes), parse.GetValue(steps)),
                new LastLayerNames(parse.GetValue(weight)!, parse.GetValue(bias)!, parse.GetValue(weightGrad)!, parse.GetValue(biasGrad)!),
                parse.GetValue(known) is { } text ? UpdateAudit.ParseClasses(text) : null,
                new LastLayerFile.OverrideOptions(weight.Name, bias.Name, weightGrad.Name, biasGrad.Name, batch.Name, classes.Name, steps.Name));
            output.WriteLine(UpdateAudit.Run(request));
            return 0;
        });
        return command;
    }
}
