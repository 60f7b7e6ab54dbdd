//! A real Prometheus (Debian's `prometheus` package) run by a test: started on a free port
//! with a config file, queried over its HTTP API, killed by its pid when dropped.

use super::free_port_range;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

pub struct Prometheus {
    child: Option<Child>,
    pub url: String,
    pub log: PathBuf,
}

impl Prometheus {
    /// Starts `prometheus --config.file=CONFIG` keeping its data and log in `work`; waits (up
    /// to 60 s) until it says it is ready.
    pub fn start(rt: &Runtime, config: &Path, work: &Path) -> Prometheus {
        std::fs::create_dir_all(work).unwrap();
        let port = free_port_range(1);
        let log = work.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", work.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect(
                "run prometheus (Debian package `prometheus`; scripts/deps.sh test installs it)",
            );
        let p = Prometheus { child: Some(child), url: format!("http://127.0.0.1:{port}"), log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = rt.block_on(async {
                reqwest::get(format!("{}/-/ready", p.url))
                    .await
                    .is_ok_and(|r| r.status().is_success())
            });
            if ready {
                return p;
            }
            assert!(Instant::now() < deadline, "Prometheus not ready in 60 s:\n{}", p.log_text());
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The samples an instant query returns: (labels, value).
    pub fn query(&self, rt: &Runtime, promql: &str) -> Vec<(Value, f64)> {
        let body: Value = rt.block_on(async {
            let r = reqwest::Client::new()
                .get(format!("{}/api/v1/query", self.url))
                .query(&[("query", promql)])
                .send()
                .await
                .expect("query Prometheus");
            r.json().await.expect("Prometheus answers JSON")
        });
        assert_eq!(body["status"], "success", "query {promql}: {body}");
        body["data"]["result"]
            .as_array()
            .map(|samples| {
                samples
                    .iter()
                    .map(|s| {
                        let v = s["value"][1].as_str().and_then(|v| v.parse().ok());
                        (s["metric"].clone(), v.unwrap_or(f64::NAN))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The value of a query that yields one sample (`None`: no sample yet).
    pub fn value(&self, rt: &Runtime, promql: &str) -> Option<f64> {
        self.query(rt, promql).first().map(|(_, v)| *v)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
