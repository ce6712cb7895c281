//! A real `redis-server` for tests: a child process on a free loopback port, in a
//! directory of its own, stopped when dropped.
//!
//! ```no_run
//! use taskpoll_fleet::testing::RedisServer;
//!
//! let redis = RedisServer::start().expect("redis-server");
//! println!("{}", redis.url());
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` child process. Killed (and its directory removed) on drop.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    persistent: bool,
}

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(String);

fn free_port() -> Result<u16, StartError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| StartError(format!("no free loopback port: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| StartError(format!("no free loopback port: {e}")))
}

/// Whether a server answers PING on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    ) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    matches!(s.read(&mut buf), Ok(n) if buf[..n].starts_with(b"+PONG"))
}

impl RedisServer {
    /// A server without persistence (`--save "" --appendonly no`).
    pub fn start() -> Result<Self, StartError> {
        Self::launch(false)
    }

    /// A server with an append-only file synced on every write (`--appendonly yes
    /// --appendfsync always`), which [`restart`](RedisServer::restart) reloads.
    pub fn start_persistent() -> Result<Self, StartError> {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Result<Self, StartError> {
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!(
            "taskpoll-redis-{}-{port}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| StartError(format!("cannot create {}: {e}", dir.display())))?;
        let mut server = RedisServer {
            child: None,
            port,
            dir,
            persistent,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), StartError> {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1", "--save", ""])
            .arg("--dir")
            .arg(&self.dir);
        if self.persistent {
            cmd.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            cmd.args(["--appendonly", "no"]);
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd.spawn().map_err(|e| {
            StartError(if e.kind() == std::io::ErrorKind::NotFound {
                "redis-server is not installed: the fleet tests need a real Redis; install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and run the tests again".to_owned()
            } else {
                format!("cannot start redis-server: {e}")
            })
        })?;
        self.child = Some(child);
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if answers(self.port) {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(StartError(format!(
                    "redis-server exited at once ({status}) on port {}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(StartError(format!(
            "redis-server did not answer on port {} within 10 s",
            self.port
        )))
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (where an append-only file is kept).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server at once (SIGKILL: no final save).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and directory (a persistent server reloads its
    /// append-only file).
    pub fn restart(&mut self) -> Result<(), StartError> {
        self.kill();
        self.spawn()
    }

    /// Whether the server answers PING now.
    pub fn is_up(&self) -> bool {
        answers(self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
