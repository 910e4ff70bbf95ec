using System.Security.Cryptography;
using System.Text.Json;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// Where a run keeps its data and generated secrets. The run command uses <c>.state/</c> beside the
/// repository, so tenants survive a restart; tests point <c>Crm:StateDirectory</c> at a throw-away folder.
/// Secrets are generated once and kept in <c>secrets.json</c>, readable by the owner only.
/// </summary>
internal sealed class StateFolder
{
    private readonly string _secretsFile;
    private readonly Dictionary<string, string> _secrets;

    public string Root { get; }

    public StateFolder(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        if (!OperatingSystem.IsWindows())
        {
            // Others may pass through (the postgres user reaches its data folder) but not list or read: secrets are 0600.
            File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        _secretsFile = Path.Combine(Root, "secrets.json");
        _secrets = File.Exists(_secretsFile)
            ? JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(_secretsFile)) ?? []
            : [];
    }

    public string Folder(string name)
    {
        var path = Path.Combine(Root, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>The secret named <paramref name="name"/>, generated on first use (hex of <paramref name="bytes"/> random bytes).</summary>
    public string Secret(string name, int bytes = 24, string prefix = "")
    {
        lock (_secrets)
        {
            if (!_secrets.TryGetValue(name, out var value))
            {
                value = prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
                _secrets[name] = value;
                WritePrivate(_secretsFile, JsonSerializer.Serialize(_secrets, new JsonSerializerOptions { WriteIndented = true }));
            }

            return value;
        }
    }

    /// <summary>
    /// The signing key named <paramref name="name"/> (ECDSA P-256, PKCS#8, base64; generated on first use) and its public
    /// half (SubjectPublicKeyInfo, base64), which is no secret.
    /// </summary>
    public (string SigningKey, string PublicKey) SigningKeyPair(string name)
    {
        lock (_secrets)
        {
            if (!_secrets.TryGetValue(name, out var signingKey))
            {
                using var generated = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                _secrets[name] = signingKey = Convert.ToBase64String(generated.ExportPkcs8PrivateKey());
                WritePrivate(_secretsFile, JsonSerializer.Serialize(_secrets, new JsonSerializerOptions { WriteIndented = true }));
            }

            using var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(Convert.FromBase64String(signingKey), out _);
            return (signingKey, Convert.ToBase64String(key.ExportSubjectPublicKeyInfo()));
        }
    }

    public static void WritePrivate(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var file = new FileStream(path, options);
        using var writer = new StreamWriter(file);
        writer.Write(contents);
    }
}
