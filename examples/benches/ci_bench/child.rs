//! Runs one measured process: wall time, and peak RSS read from `/proc/PID/status` (`VmHWM`, the
//! kernel's own high-water mark) every few milliseconds while it runs. The same measure serves
//! ci-sync and the peers, whatever language they are written in.

use std::io::Read;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// What one process did.
#[derive(Debug)]
pub struct Measured {
    /// From spawn to exit.
    pub wall: Duration,
    /// Its peak resident set size, bytes (the last `VmHWM` read before it exited).
    pub peak_rss: u64,
    /// How it ended.
    pub status: ExitStatus,
    /// Its standard error, for a failure's message.
    pub stderr: String,
    /// Bytes it wrote to stdout (discarded as they come).
    pub stdout_bytes: u64,
    /// Its stdout, when kept.
    pub stdout: String,
}

impl Measured {
    /// Fails loudly when the process did not succeed: a benchmark of a failed run means nothing.
    pub fn check(self, what: &str) -> Measured {
        if !self.status.success() {
            eprintln!(
                "ci-bench: {what} failed ({}):\n{}",
                self.status, self.stderr
            );
            std::process::exit(1);
        }
        self
    }
}

fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
}

/// What becomes of a process's stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Kept and returned.
    Keep,
    /// Read through a pipe and counted, not kept (a 1 GB console log).
    Count,
    /// Written to `/dev/null`: no reader shares the CPU with the process.
    Null,
}

/// Runs `cmd` to its end.
pub fn run(cmd: &mut Command, output: Output, stderr_file: &Path) -> Measured {
    let stderr = std::fs::File::create(stderr_file).expect("stderr file");
    let keep_stdout = output == Output::Keep;
    let stdout = match output {
        Output::Null => Stdio::from(std::fs::File::create("/dev/null").expect("/dev/null")),
        Output::Keep | Output::Count => Stdio::piped(),
    };
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let pid = child.id();
    let out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let Some(mut out) = out else {
            return (0, String::new());
        };
        let mut kept = Vec::new();
        let mut count = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    count += n as u64;
                    if keep_stdout {
                        kept.extend_from_slice(&buf[..n]);
                    }
                }
            }
        }
        (count, String::from_utf8_lossy(&kept).into_owned())
    });
    let mut peak = 0;
    let status = loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak = peak.max(hwm);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => panic!("waiting for {pid}: {e}"),
        }
    };
    let wall = started.elapsed();
    let (stdout_bytes, stdout) = reader.join().expect("stdout reader");
    Measured {
        wall,
        peak_rss: peak,
        status,
        stderr: std::fs::read_to_string(stderr_file).unwrap_or_default(),
        stdout_bytes,
        stdout,
    }
}

/// The median of `values` (the lower middle for an even count).
pub fn median<T: Copy + PartialOrd>(values: &[T]) -> T {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.partial_cmp(b).expect("comparable"));
    sorted[(sorted.len() - 1) / 2]
}

/// Bytes as MiB.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
