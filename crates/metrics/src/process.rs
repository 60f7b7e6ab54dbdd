//! Process figures read from `/proc/self` at scrape time (Linux; elsewhere they stay unset).

use metrics::gauge;

pub const CPU: &str = "aurum_process_cpu_seconds_total";
pub const RSS: &str = "aurum_process_resident_memory_bytes";
pub const OPEN_FDS: &str = "aurum_process_open_fds";
pub const MAX_FDS: &str = "aurum_process_max_fds";
pub const THREADS: &str = "aurum_process_threads";

pub(crate) const HELP: &[(&str, &str)] = &[
    (CPU, "CPU time (user + system) the node process has used, in seconds."),
    (RSS, "Resident memory of the node process."),
    (OPEN_FDS, "File descriptors the node process holds open (sockets and files)."),
    (MAX_FDS, "The process's limit on open file descriptors."),
    (THREADS, "Threads of the node process."),
];

/// What `/proc/self/stat` says: (utime + stime in clock ticks, threads, rss in pages).
fn parse_stat(stat: &str) -> Option<(u64, u64, u64)> {
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime 15, threads 20, rss 24.
    let at = |n: usize| f.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    Some((at(14)? + at(15)?, at(20)?, at(24)?))
}

fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Reads the process figures and sets their gauges.
pub fn refresh() {
    // Linux reports stat times in USER_HZ, 100 on every platform Linux supports today.
    const TICKS: f64 = 100.0;
    const PAGE: u64 = 4096;
    if let Some((ticks, threads, rss)) =
        std::fs::read_to_string("/proc/self/stat").ok().as_deref().and_then(parse_stat)
    {
        gauge!(CPU).set(ticks as f64 / TICKS);
        gauge!(THREADS).set(threads as f64);
        gauge!(RSS).set((rss * PAGE) as f64);
    }
    if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
        gauge!(OPEN_FDS).set(dir.count() as f64);
    }
    if let Some(max) = max_fds() {
        gauge!(MAX_FDS).set(max as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_stat;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let line = "4242 (aurum node) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 17 0 1000 123456789 2048 18446744073709551615";
        assert_eq!(parse_stat(line), Some((300, 17, 2048)));
    }
}
