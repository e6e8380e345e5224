//! A real S3-compatible server for one test: `s3s-fs` (a Rust crate, installed with cargo) if installed, else moto's
//! server mode, spawned on a free loopback port and killed on drop. `S3_TEST_ENDPOINT` points
//! the tests at an already running server instead (`infra/local/s3.sh start` prints one).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The keys `infra/local/s3.sh` starts its server with.
const ACCESS_KEY: &str = "scenergy-test";
const SECRET_KEY: &str = "scenergy-test-secret";

#[derive(Debug)]
pub struct S3Server {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    /// False for moto, which accepts any credentials.
    pub checks_credentials: bool,
    child: Option<Child>,
    // Held so s3s-fs's directory lives as long as the server.
    _data: Option<tempfile::TempDir>,
}

fn env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.trim().is_empty())
}

/// `name` in the places our installers put it, then on PATH.
fn find(name: &str, preferred: PathBuf) -> Option<PathBuf> {
    if preferred.is_file() {
        return Some(preferred);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn home() -> PathBuf {
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
}

impl S3Server {
    pub async fn start() -> Self {
        if let Some(endpoint) = env("S3_TEST_ENDPOINT") {
            return Self {
                endpoint,
                access_key: env("S3_TEST_ACCESS_KEY").unwrap_or_else(|| ACCESS_KEY.to_owned()),
                secret_key: env("S3_TEST_SECRET_KEY").unwrap_or_else(|| SECRET_KEY.to_owned()),
                checks_credentials: env("S3_TEST_CHECKS_CREDENTIALS").is_none_or(|v| v != "false"),
                child: None,
                _data: None,
            };
        }
        let port = crate::free_port();
        let cargo_bin = env("CARGO_HOME").map_or_else(|| home().join(".cargo"), PathBuf::from);
        let (child, data, checks_credentials) =
            if let Some(bin) = find("s3s-fs", cargo_bin.join("bin/s3s-fs")) {
                let data = tempfile::tempdir().unwrap();
                let child = Command::new(bin)
                    .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                    .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                    .arg(data.path())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn s3s-fs");
                (child, Some(data), true)
            } else if let Some(bin) = find(
                "moto_server",
                home().join(".cache/scenergy-venv/bin/moto_server"),
            ) {
                let child = Command::new(bin)
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn moto_server");
                (child, None, false)
            } else {
                panic!(
                    "no S3-compatible test server installed: run `bash infra/local/s3.sh install` \
                 (installs s3s-fs, or moto as a fallback), or set S3_TEST_ENDPOINT"
                );
            };
        let mut server = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            access_key: ACCESS_KEY.to_owned(),
            secret_key: SECRET_KEY.to_owned(),
            checks_credentials,
            child: Some(child),
            _data: data,
        };
        server.wait_until_listening(port).await;
        server
    }

    /// Whether this test spawned the server (and so may kill it).
    pub fn is_own(&self) -> bool {
        self.child.is_some()
    }

    async fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the S3 test server exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the S3 test server did not listen on port {port} within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
