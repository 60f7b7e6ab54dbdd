//! A throwaway PostgreSQL cluster for tests (feature `test-utils`): `initdb` in a temp dir,
//! `pg_ctl start` on a free loopback port with trust authentication, stopped (`-m immediate`)
//! when dropped, also when a test panics. As root the server runs as the `postgres` user
//! (`initdb` refuses root). [`PgCluster::start`] returns `None`, loudly, only when no
//! PostgreSQL server binaries exist at all, and fails instead when `AURUM_REQUIRE_PG` is set
//! (CI sets it: there nothing may be skipped).
// Test utility: failing loudly is the point.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// A running PostgreSQL server owned by a test.
pub struct PgCluster {
    port: u16,
    bin: PathBuf,
    dir: TempDir,
    /// Run the server's tools as this user (when the test runs as root).
    run_as: Option<String>,
}

/// Where `initdb` and `pg_ctl` are: `AURUM_PG_BIN`, the newest `/usr/lib/postgresql/*/bin`,
/// or `PATH`.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("AURUM_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("initdb").exists() {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A loopback port nothing listens on (right now).
pub fn free_port_for_tests() -> u16 {
    free_port()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PgCluster {
    /// Starts a fresh cluster, or `None` (after a loud message) if PostgreSQL is not installed.
    pub fn start() -> Option<Self> {
        let Some(bin) = bin_dir() else {
            assert!(
                std::env::var_os("AURUM_REQUIRE_PG").is_none(),
                "AURUM_REQUIRE_PG is set but no PostgreSQL server binaries were found"
            );
            eprintln!(
                "\n*** SKIPPED: no PostgreSQL server binaries (initdb, pg_ctl) found in \
                 AURUM_PG_BIN, /usr/lib/postgresql/*/bin or PATH; install postgresql to run \
                 the PostgreSQL tests (.ci/run does) ***\n"
            );
            return None;
        };
        let dir = tempfile::Builder::new().prefix("aurum-pg").tempdir().unwrap();
        let run_as = is_root().then(|| "postgres".to_owned());
        if let Some(user) = &run_as {
            let ok = Command::new("chown")
                .arg(format!("{user}:"))
                .arg(dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown of the cluster directory to {user} failed");
        }
        let cluster = PgCluster { port: free_port(), bin, dir, run_as };
        cluster.tool(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        cluster.start_server();
        Some(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs a server tool (as the `postgres` user when root), panicking with its output on
    /// failure.
    fn tool(&self, name: &str, args: &[&str]) {
        let exe = self.bin.join(name);
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).current_dir(self.dir.path()).output().unwrap();
        assert!(
            out.status.success(),
            "{name} {args:?} failed: {}\n{}\n{}\nserver log:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log(),
        );
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Starts the server again after [`PgCluster::stop`] (same port, same data).
    pub fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=400",
            self.port,
            self.dir.path().display()
        );
        let data = self.data().display().to_string();
        let log = self.dir.path().join("server.log").display().to_string();
        self.tool("pg_ctl", &["-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "120", "start"]);
    }

    /// Stops the server (`-m fast`: clients are disconnected, data is flushed).
    pub fn stop(&self) {
        let data = self.data().display().to_string();
        self.tool("pg_ctl", &["-D", &data, "-m", "fast", "-w", "-t", "120", "stop"]);
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A URL for database `db` as the superuser.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `db` (if missing) and returns its URL.
    pub fn database(&self, db: &str) -> String {
        crate::pg::create_database(&self.url("postgres"), db).unwrap();
        self.url(db)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let mut cmd = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let _ = cmd.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}
