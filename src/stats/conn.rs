//! One CLI connection: HAProxy's framing.
//!
//! Owns: reading command lines (at most [`MAX_LINE`] bytes, the size of
//! HAProxy's buffer; longer ones close the connection silently, as HAProxy
//! does), `;`-separated commands (`\;` escapes), the answer
//! framing (output + one empty line; prompt mode adds `> `), `prompt`,
//! `quit`, the idle `stats timeout` (or `set timeout cli`), and the session level (lowered by
//! `operator`/`user`). Non-interactive mode runs the first line and any
//! line already received with it, then closes. Must not know commands.

use super::cmd::{self, Reply};
use super::{Level, Stats};
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

/// HAProxy's default `tune.bufsize`: longer command lines are refused.
pub const MAX_LINE: usize = 16384;

/// Session state that commands can change.
#[derive(Debug)]
pub struct Session {
    pub level: Level,
    pub prompt: bool,
}

tokio::task_local! {
    /// `set timeout cli` of the CLI connection being served.
    static IDLE: std::cell::Cell<Option<std::time::Duration>>;
}

/// `set timeout cli <d>`: changes the idle timeout of the CLI connection
/// running the command; false outside one (e.g. the stats page).
pub fn set_idle_timeout(d: std::time::Duration) -> bool {
    IDLE.try_with(|c| c.set(Some(d))).is_ok()
}

/// Splits a command line on unescaped `;` (`\;` stays a literal `;`).
pub fn split_commands(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                cur.push(';');
                chars.next();
            }
            ';' => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Runs one line (possibly several `;` commands); returns the bytes to
/// send and whether to close afterwards.
pub fn run_line(line: &str, sess: &mut Session, stats: &Stats) -> (String, bool) {
    let mut out = String::new();
    for c in split_commands(line) {
        match cmd::execute(c.trim(), sess, stats) {
            Reply::Quit => return (out, true),
            Reply::Text(t) => {
                out.push_str(&t);
                out.push('\n');
            }
            Reply::Raw(t) => out.push_str(&t),
        }
    }
    (out, false)
}

/// Serves one connection until `quit`, EOF, the idle timeout, or the end
/// of a non-interactive exchange.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(s: S, level: Level, stats: Arc<Stats>) {
    IDLE.scope(std::cell::Cell::new(None), serve_in(s, level, stats))
        .await
}

async fn serve_in<S: AsyncRead + AsyncWrite + Unpin>(s: S, level: Level, stats: Arc<Stats>) {
    let mut sess = Session {
        level,
        prompt: false,
    };
    let mut rd = BufReader::with_capacity(MAX_LINE, s);
    loop {
        let mut buf = Vec::new();
        let idle = IDLE.try_with(|c| c.get()).ok().flatten();
        let idle = idle.unwrap_or(stats.timeout);
        let read = tokio::time::timeout(idle, read_line(&mut rd, &mut buf)).await;
        let line = match read {
            Ok(Ok(LineRead::Line)) => String::from_utf8_lossy(&buf).into_owned(),
            // HAProxy closes without a word when the buffer fills up.
            Ok(Ok(LineRead::TooLong)) => return,
            // EOF with a partial line: HAProxy runs it too.
            Ok(Ok(LineRead::Eof)) if !buf.is_empty() => String::from_utf8_lossy(&buf).into_owned(),
            _ => return,
        };
        let line = line.trim_end_matches(['\r', '\n']);
        let (mut out, quit) = run_line(line, &mut sess, &stats);
        if quit {
            let _ = rd.get_mut().write_all(out.as_bytes()).await;
            return;
        }
        if sess.prompt {
            out.push_str("> ");
        }
        if rd.get_mut().write_all(out.as_bytes()).await.is_err() {
            return;
        }
        if !sess.prompt && rd.buffer().is_empty() {
            return;
        }
    }
}

enum LineRead {
    Line,
    Eof,
    TooLong,
}

/// Reads up to and including `\n`, refusing lines over [`MAX_LINE`].
async fn read_line<R: AsyncBufReadExt + Unpin>(
    rd: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<LineRead> {
    loop {
        let avail = rd.fill_buf().await?;
        if avail.is_empty() {
            return Ok(LineRead::Eof);
        }
        let (take, done) = match avail.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        buf.extend_from_slice(&avail[..take]);
        rd.consume(take);
        if buf.len() > MAX_LINE {
            return Ok(LineRead::TooLong);
        }
        if done {
            return Ok(LineRead::Line);
        }
    }
}
