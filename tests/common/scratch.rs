//! What several test files need besides servers: a directory that outlives the servers started in it
//! ([`SharedDir`]), and an npm package ([`npm_package_dir`]) or a PyPI package in a virtualenv
//! ([`pip_package_venv`]) installed once into cargo's per-target temp dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory that outlives the servers started in it (each `TestServer` removes only its own), removed on
/// drop. `ferrokv-<suite>-<name>-<pid>` under the temp dir, emptied first.
pub struct SharedDir(pub PathBuf);

impl SharedDir {
    pub fn new(suite: &str, name: &str) -> SharedDir {
        let dir = std::env::temp_dir().join(format!("ferrokv-{suite}-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        SharedDir(dir)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for SharedDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tool_available(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok_and(|out| out.status.success())
}

/// `dir_name` under cargo's per-target temp dir with npm `package` (`name@major`) installed in it, or `None`
/// after a [`super::skip`] when node or npm is missing or the install fails. Installed once, reused by later
/// runs (`installed` is the package's own path below `node_modules`, whose `package.json` marks it done).
pub fn npm_package_dir(dir_name: &str, package: &str, installed: &str) -> Option<PathBuf> {
    if !tool_available("node") || !tool_available("npm") {
        super::skip("node or npm is not installed (apt-get install -y nodejs npm)");
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir_name);
    fs::create_dir_all(&dir).expect("create the npm dir");
    if !dir.join("node_modules").join(installed).join("package.json").exists() {
        fs::write(dir.join("package.json"), r#"{"private": true, "type": "module"}"#).unwrap();
        let output = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--loglevel=error", package])
            .current_dir(&dir)
            .output()
            .expect("run npm");
        if !output.status.success() {
            // Most often the npm registry is unreachable (offline, a proxy): not a defect of ours, so outside
            // CI the test skips, quoting npm's first error line (`npm error code ECONNREFUSED`).
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().find(|line| !line.trim().is_empty()).unwrap_or("no output");
            super::skip(&format!("npm install {package} failed (is the npm registry reachable?): {first}"));
            return None;
        }
    }
    Some(dir)
}

/// The python of a virtualenv `dir_name` under cargo's per-target temp dir with PyPI `package` (a pip
/// requirement, `redis>=5,<7`) installed in it, or `None` after a [`super::skip`] when python3 (with its venv
/// module) is missing or the install fails. Installed once (`import_name` importable marks it done).
pub fn pip_package_venv(dir_name: &str, package: &str, import_name: &str) -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir_name);
    let python = venv.join("bin").join("python");
    let importable = |python: &Path| {
        Command::new(python).args(["-c", &format!("import {import_name}")]).output().is_ok_and(|o| o.status.success())
    };
    if importable(&python) {
        return Some(python);
    }
    let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).output();
    if !created.is_ok_and(|out| out.status.success()) {
        super::skip("python3 with its venv module is not installed (apt-get install -y python3 python3-venv)");
        return None;
    }
    let output = Command::new(&python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", package])
        .output()
        .expect("run pip");
    if !output.status.success() || !importable(&python) {
        // As for npm: most often the registry is unreachable, which outside CI is a skip.
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|line| !line.trim().is_empty()).unwrap_or("no output");
        super::skip(&format!("pip install {package} failed (is PyPI reachable?): {first}"));
        return None;
    }
    Some(python)
}
