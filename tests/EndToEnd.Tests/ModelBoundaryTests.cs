using Mono.Cecil;
using Mono.Cecil.Cil;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// A service's rules live in its model: an aggregate's state changes only through its own methods. Read from the
/// built assemblies, so no way of writing the code slips past it.
/// </summary>
public sealed class ModelBoundaryTests
{
    private const string AggregateType = "SafeNotify.Crm.Messaging.Aggregate";

    public static TheoryData<string> Services => new(["Ingress", "Routing", "Agent", "Lead", "Metrics", "WebApp"]);

    [Theory]
    [MemberData(nameof(Services))]
    public void No_aggregate_has_a_setter_anyone_else_can_call(string service)
    {
        using var module = Read(service);
        var open = Aggregates(module)
            .SelectMany(t => t.Properties.Where(p => p.SetMethod is { } set && !set.IsPrivate && !IsInitOnly(set)).Select(p => $"{t.Name}.{p.Name}"))
            .ToList();

        Assert.True(open.Count == 0, $"{service}: aggregate state with a setter outside the aggregate: {string.Join(", ", open)}");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void No_code_outside_the_model_assigns_an_aggregates_state(string service)
    {
        using var module = Read(service);
        var aggregates = Aggregates(module).Select(t => t.FullName).ToHashSet();
        var assignments =
            from type in AllTypes(module)
            where !IsModel(type)
            from method in type.Methods
            where method.HasBody
            from instruction in method.Body.Instructions
            where instruction.OpCode.Code is Code.Call or Code.Callvirt
            let called = (MethodReference)instruction.Operand
            where called.Name.StartsWith("set_", StringComparison.Ordinal) && aggregates.Contains(called.DeclaringType.FullName)
            select $"{type.FullName}.{method.Name} sets {called.DeclaringType.Name}.{called.Name[4..]}";

        var found = assignments.Distinct().ToList();
        Assert.True(found.Count == 0, $"{service}: aggregate state assigned outside Model/:\n{string.Join("\n", found)}");
    }

    private static ModuleDefinition Read(string service)
    {
        var output = Path.Combine(Repository.Root, "services", service, "bin");
        var assembly = Directory.EnumerateFiles(output, $"{service}.dll", SearchOption.AllDirectories)
            .Where(p => !p.Contains("/ref/", StringComparison.Ordinal))
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .First();
        var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(assembly)!);
        return ModuleDefinition.ReadModule(assembly, new ReaderParameters { AssemblyResolver = resolver });
    }

    private static IEnumerable<TypeDefinition> AllTypes(ModuleDefinition module) => module.Types.SelectMany(WithNested);

    /// <summary>A type and the types nested in it at any depth (closures, async state machines).</summary>
    private static IEnumerable<TypeDefinition> WithNested(TypeDefinition type) => type.NestedTypes.SelectMany(WithNested).Prepend(type);

    private static IEnumerable<TypeDefinition> Aggregates(ModuleDefinition module) =>
        AllTypes(module).Where(DerivesFromAggregate);

    private static bool DerivesFromAggregate(TypeDefinition type)
    {
        for (var baseType = type.BaseType; baseType is not null; baseType = baseType.Resolve()?.BaseType)
        {
            if (baseType.FullName == AggregateType)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The model's own code, compiler-made closures of its methods included.</summary>
    private static bool IsModel(TypeDefinition type)
    {
        var outer = type;
        while (outer.DeclaringType is not null)
        {
            outer = outer.DeclaringType;
        }

        return outer.Namespace.EndsWith(".Model", StringComparison.Ordinal);
    }

    /// <summary>An <c>init</c> accessor: usable only while constructing, which an aggregate's private constructor keeps inside it.</summary>
    private static bool IsInitOnly(MethodDefinition setter) =>
        setter.ReturnType is RequiredModifierType { ModifierType.FullName: "System.Runtime.CompilerServices.IsExternalInit" };
}
