//! The target's environment: the fuzzer's own, scrubbed to what a server needs to start
//! (search path, locale, interpreter and version-manager locations, certificates), so
//! that a command injection finds no tokens or keys in it. `env_passthrough` in
//! `mcpfuzz.toml` or `MCPFUZZ_ENV_PASSTHROUGH` lets more through: exact names, `PREFIX_*`
//! or `*` for everything.

use std::ffi::OsString;
use std::path::Path;

/// Variables every target keeps.
const ALLOWED: &[&str] = &[
    "PATH",
    "LANG",
    "LANGUAGE",
    "TZ",
    "USER",
    "LOGNAME",
    "SHELL",
    "TERM",
    "LD_LIBRARY_PATH",
    // Interpreters and their environments.
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONIOENCODING",
    "PYTHONUTF8",
    "PYTHONHASHSEED",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "CONDA_DEFAULT_ENV",
    "NODE_PATH",
    "JAVA_HOME",
    "GOROOT",
    "GOPATH",
    // Version managers (their defaults live under HOME, which the target does not share).
    "PYENV_ROOT",
    "PYENV_VERSION",
    "NVM_DIR",
    "NVM_BIN",
    "VOLTA_HOME",
    "ASDF_DIR",
    "ASDF_DATA_DIR",
    "RBENV_ROOT",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    // Certificates.
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

/// Prefixes every target keeps.
const ALLOWED_PREFIXES: &[&str] = &["LC_"];

/// Version managers whose root defaults to a directory in HOME: when the variable is not
/// set and the directory exists in the fuzzer's HOME, the target is told where it is.
const HOME_DEFAULTS: &[(&str, &str)] = &[
    ("PYENV_ROOT", ".pyenv"),
    ("NVM_DIR", ".nvm"),
    ("VOLTA_HOME", ".volta"),
    ("ASDF_DATA_DIR", ".asdf"),
    ("RBENV_ROOT", ".rbenv"),
    ("CARGO_HOME", ".cargo"),
    ("RUSTUP_HOME", ".rustup"),
];

/// Whether `name` matches one pass-through pattern: `*`, `PREFIX_*` or an exact name.
pub fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Whether the target keeps the fuzzer's variable `name`.
pub fn kept(name: &str, passthrough: &[String]) -> bool {
    ALLOWED.contains(&name)
        || ALLOWED_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
        || passthrough.iter().any(|pattern| matches(pattern, name))
}

/// The variables the target starts with, before the spec's own `env`: the kept ones from
/// `inherited`, version-manager roots found in the fuzzer's HOME, and, when the target
/// runs in a sandbox `root`, HOME and TMPDIR inside it.
pub fn scrubbed(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    passthrough: &[String],
    root: Option<&Path>,
) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = Vec::new();
    let mut own_home = None;
    for (name, value) in inherited {
        let Some(text) = name.to_str() else {
            continue;
        };
        if text == "HOME" {
            own_home = Some(value.clone());
        }
        if kept(text, passthrough) {
            env.push((name, value));
        }
    }
    if let Some(home) = own_home {
        for (name, dir) in HOME_DEFAULTS {
            let path = Path::new(&home).join(dir);
            if !env.iter().any(|(key, _)| key == name) && path.is_dir() {
                env.push(((*name).into(), path.into_os_string()));
            }
        }
    }
    if let Some(root) = root {
        let set = |env: &mut Vec<(OsString, OsString)>, name: &str, value: &Path| {
            env.retain(|(key, _)| key != name);
            env.push((name.into(), value.as_os_str().to_owned()));
        };
        set(&mut env, "HOME", &root.join(".home"));
        set(&mut env, "TMPDIR", &root.join(".tmp"));
    }
    env
}

/// `MCPFUZZ_ENV_PASSTHROUGH`, split on commas and whitespace.
pub fn passthrough_from_environment() -> Vec<String> {
    std::env::var("MCPFUZZ_ENV_PASSTHROUGH")
        .map(|text| {
            text.split(|c: char| c == ',' || c.is_whitespace())
                .filter(|pattern| !pattern.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| ((*name).into(), (*value).into()))
            .collect()
    }

    fn names(env: &[(OsString, OsString)]) -> Vec<String> {
        env.iter()
            .map(|(name, value)| format!("{}={}", name.to_string_lossy(), value.to_string_lossy()))
            .collect()
    }

    #[test]
    fn secrets_are_dropped_and_the_basics_kept() {
        let inherited = vars(&[
            ("PATH", "/bin"),
            ("LC_ALL", "C"),
            ("AWS_SECRET_ACCESS_KEY", "k"),
            ("GITHUB_TOKEN", "t"),
            ("SSL_CERT_FILE", "/c.pem"),
        ]);
        let env = scrubbed(inherited, &[], None);
        assert_eq!(
            names(&env),
            vec!["PATH=/bin", "LC_ALL=C", "SSL_CERT_FILE=/c.pem"]
        );
    }

    #[test]
    fn passthrough_patterns_let_more_through() {
        assert!(matches("*", "ANYTHING"));
        assert!(matches("MY_*", "MY_KEY"));
        assert!(!matches("MY_*", "YOUR_KEY"));
        assert!(matches("API_URL", "API_URL"));
        assert!(!matches("API_URL", "API_URL2"));
        let inherited = vars(&[("MY_KEY", "1"), ("API_URL", "u"), ("OTHER", "o")]);
        let env = scrubbed(inherited, &["MY_*".into(), "API_URL".into()], None);
        assert_eq!(names(&env), vec!["MY_KEY=1", "API_URL=u"]);
    }

    #[test]
    fn home_and_tmpdir_move_into_the_sandbox() {
        let inherited = vars(&[("HOME", "/nonexistent-home"), ("TMPDIR", "/tmp")]);
        let env = scrubbed(inherited, &[], Some(Path::new("/s/root")));
        assert_eq!(
            names(&env),
            vec!["HOME=/s/root/.home", "TMPDIR=/s/root/.tmp"]
        );
    }

    #[test]
    fn version_manager_roots_under_the_old_home_are_kept() {
        let home = std::env::temp_dir().join(format!("mcpfuzz-env-home-{}", std::process::id()));
        std::fs::create_dir_all(home.join(".pyenv")).unwrap();
        let inherited = vec![("HOME".into(), home.clone().into_os_string())];
        let env = scrubbed(inherited, &[], Some(Path::new("/s/root")));
        assert!(names(&env).contains(&format!("PYENV_ROOT={}", home.join(".pyenv").display())));
        std::fs::remove_dir_all(&home).unwrap();
    }
}
