//! The stats page in a real browser (headless Chromium): the page renders
//! (a screenshot of the requested size, with HAProxy's green of an UP
//! server row and red of a DOWN one), and the `;live` page's script
//! fetches `;json` and rewrites counters in place.
//!
//! Skips (with a message) only when `/usr/bin/chromium` is missing; CI
//! installs it (`apt-get install -y chromium`).

mod support;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{Backend, Behaviour, Proxy, TempDir, dead_port, free_port, raw};

const CHROMIUM: &str = "/usr/bin/chromium";
/// HAProxy's row colours (`.active_up`, `.active_down` in the page CSS).
const GREEN: [u8; 3] = [0xc0, 0xff, 0xc0];
const RED: [u8; 3] = [0xff, 0x90, 0x90];

fn config(web: u16, up: u16, down: u16) -> String {
    format!(
        "defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    \
         timeout server 5s\n\
         listen stats\n    bind 127.0.0.1:@PORT@\n    stats enable\n    stats uri /stats\n\
         listen web\n    bind 127.0.0.1:{web}\n    \
         server up1 127.0.0.1:{up} check inter 200ms\n    \
         server down1 127.0.0.1:{down} check inter 200ms fall 1\n"
    )
}

/// Runs Chromium headless with `args` then `url`, killed after 30 s.
/// Returns its stdout.
fn chromium(profile: &Path, args: &[&str], url: &str) -> Vec<u8> {
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn chromium");
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut v);
        v
    });
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within 30 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap_or_default()
}

/// Waits (bounded) until the health checks have settled: up1 UP, down1
/// DOWN.
fn settle(port: u16) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let csv = raw(
            port,
            b"GET /stats;csv HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        let up = csv
            .lines()
            .any(|l| l.starts_with("web,up1,") && l.contains(",UP,"));
        let down = csv
            .lines()
            .any(|l| l.starts_with("web,down1,") && l.contains(",DOWN,"));
        if up && down {
            return;
        }
        assert!(Instant::now() < until, "checks did not settle:\n{csv}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn stats_page_renders_and_updates_live_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: {CHROMIUM} is not installed (apt-get install -y chromium)");
        return;
    }
    let origin = Backend::start("a", Behaviour::Http);
    let web = free_port();
    let px = Proxy::start(&config(web, origin.port, dead_port()));
    settle(px.port);
    let tmp = TempDir::new();
    let url = format!("http://127.0.0.1:{}/stats", px.port);

    // The screenshot: a PNG of the window size with both state colours.
    let shot = tmp.0.join("s.png");
    chromium(
        &tmp.0.join("p1"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,900",
        ],
        &url,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    let img = png::decode(&png).expect("a valid PNG");
    assert_eq!((img.width, img.height), (1400, 900));
    let count = |c: [u8; 3]| img.pixels().filter(|p| *p == c).count();
    // A table row is ~1300 px wide and ~14 px high.
    assert!(count(GREEN) > 5000, "green (UP) pixels: {}", count(GREEN));
    assert!(count(RED) > 5000, "red (DOWN) pixels: {}", count(RED));

    // Traffic the page must show.
    for _ in 0..3 {
        let r = raw(
            web,
            b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    }

    // The live page: the script ran, fetched `;json` and rewrote the
    // stats frontend's session total, which the page rendered before the
    // script's own request was counted.
    let dom = chromium(
        &tmp.0.join("p2"),
        &["--virtual-time-budget=3000", "--dump-dom"],
        &format!("{url};live"),
    );
    let dom = String::from_utf8_lossy(&dom).to_string();
    assert!(dom.contains("id=\"live-update\">live update: "), "{dom}");
    let total = |px_sv: &str| -> u64 {
        let at = dom
            .find(&format!("name=\"{px_sv}\""))
            .unwrap_or_else(|| panic!("row {px_sv} missing"));
        // The tooltips hold tables of their own: out of the way.
        let mut row = dom[at..].to_string();
        while let Some(i) = row.find("<div class=\"tips\">") {
            let end = row[i..].find("</div>").map_or(row.len(), |j| i + j + 6);
            row.replace_range(i..end, "");
        }
        let row = &row[..row.find("</tr>").unwrap_or(row.len())];
        // Logical columns (colspans counted) of the row's cells.
        let mut col = 1;
        for td in row.split("<td").skip(1) {
            let span = td
                .split_once("colspan=\"")
                .filter(|(a, _)| !a.contains('>'))
                .and_then(|(_, b)| b.split('"').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            col += 1;
            if col == 11 {
                // The script's rewrite wraps the value in a <span>.
                let v = td.split_once("<u><span>").map(|(_, b)| b);
                let v = v.unwrap_or_else(|| panic!("{px_sv}: cell not rewritten: {td}"));
                let digits: String = v
                    .split("</span>")
                    .next()
                    .unwrap_or("")
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                return digits.parse().expect("a number");
            }
            col += span - 1;
        }
        panic!("{px_sv}: no session total cell");
    };
    assert!(total("stats/Frontend") >= 2, "stats/Frontend total");
    assert_eq!(total("web/Frontend"), 3);
    // The live page does not reload itself.
    let head = raw(
        px.port,
        b"GET /stats;live HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(head.contains("<script"));
    let plain = raw(
        px.port,
        b"GET /stats HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(!plain.contains("<script"));
    drop(px);
}

/// Just enough PNG (8-bit RGB/RGBA, non-interlaced) and DEFLATE to read
/// Chromium's screenshots.
mod png {
    pub struct Image {
        pub width: u32,
        pub height: u32,
        channels: usize,
        data: Vec<u8>,
    }

    impl Image {
        pub fn pixels(&self) -> impl Iterator<Item = [u8; 3]> + '_ {
            self.data
                .chunks_exact(self.channels)
                .map(|p| [p[0], p[1], p[2]])
        }
    }

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    pub fn decode(png: &[u8]) -> Result<Image, String> {
        if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Err("not a PNG".into());
        }
        let (mut width, mut height, mut channels) = (0, 0, 0);
        let mut idat = Vec::new();
        let mut at = 8;
        while at + 8 <= png.len() {
            let len = be32(&png[at..]) as usize;
            let kind = &png[at + 4..at + 8];
            let body = png.get(at + 8..at + 8 + len).ok_or("truncated chunk")?;
            match kind {
                b"IHDR" => {
                    width = be32(body);
                    height = be32(&body[4..]);
                    let (depth, color, interlace) = (body[8], body[9], body[12]);
                    if depth != 8 || interlace != 0 {
                        return Err(format!("unsupported depth {depth}/interlace"));
                    }
                    channels = match color {
                        2 => 3,
                        6 => 4,
                        c => return Err(format!("unsupported colour type {c}")),
                    };
                }
                b"IDAT" => idat.extend_from_slice(body),
                b"IEND" => break,
                _ => {}
            }
            at += 12 + len;
        }
        // zlib: 2 header bytes, then DEFLATE.
        let raw = inflate(idat.get(2..).ok_or("empty IDAT")?)?;
        let stride = width as usize * channels;
        let mut data = vec![0u8; stride * height as usize];
        for y in 0..height as usize {
            let line = raw
                .get(y * (stride + 1)..(y + 1) * (stride + 1))
                .ok_or("short image data")?;
            let (filter, src) = (line[0], &line[1..]);
            let (done, rest) = data.split_at_mut(y * stride);
            let prev = if y > 0 {
                &done[(y - 1) * stride..]
            } else {
                &[][..]
            };
            let cur = &mut rest[..stride];
            for x in 0..stride {
                let a = if x >= channels { cur[x - channels] } else { 0 };
                let b = prev.get(x).copied().unwrap_or(0);
                let c = if x >= channels {
                    prev.get(x - channels).copied().unwrap_or(0)
                } else {
                    0
                };
                let pred = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => paeth(a, b, c),
                    f => return Err(format!("bad filter {f}")),
                };
                cur[x] = src[x].wrapping_add(pred);
            }
        }
        Ok(Image {
            width,
            height,
            channels,
            data,
        })
    }

    fn paeth(a: u8, b: u8, c: u8) -> u8 {
        let p = i16::from(a) + i16::from(b) - i16::from(c);
        let (pa, pb, pc) = (
            (p - i16::from(a)).abs(),
            (p - i16::from(b)).abs(),
            (p - i16::from(c)).abs(),
        );
        if pa <= pb && pa <= pc {
            a
        } else if pb <= pc {
            b
        } else {
            c
        }
    }

    struct Bits<'a> {
        src: &'a [u8],
        pos: usize,
    }

    impl Bits<'_> {
        fn bit(&mut self) -> Result<u32, String> {
            let byte = self.src.get(self.pos / 8).ok_or("deflate: out of data")?;
            let b = (byte >> (self.pos % 8)) & 1;
            self.pos += 1;
            Ok(u32::from(b))
        }
        fn bits(&mut self, n: u32) -> Result<u32, String> {
            let mut v = 0;
            for i in 0..n {
                v |= self.bit()? << i;
            }
            Ok(v)
        }
    }

    /// A canonical Huffman code: (code length counts, symbols by code).
    struct Huffman {
        counts: [u16; 16],
        symbols: Vec<u16>,
    }

    impl Huffman {
        fn new(lengths: &[u8]) -> Huffman {
            let mut counts = [0u16; 16];
            for &l in lengths {
                counts[l as usize] += 1;
            }
            counts[0] = 0;
            let mut offs = [0u16; 16];
            for i in 1..16 {
                offs[i] = offs[i - 1] + counts[i - 1];
            }
            let mut symbols = vec![0u16; lengths.len()];
            for (s, &l) in lengths.iter().enumerate() {
                if l != 0 {
                    symbols[offs[l as usize] as usize] = s as u16;
                    offs[l as usize] += 1;
                }
            }
            Huffman { counts, symbols }
        }

        fn decode(&self, b: &mut Bits<'_>) -> Result<u16, String> {
            let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
            for len in 1..16 {
                code |= b.bit()? as i32;
                let count = i32::from(self.counts[len]);
                if code - count < first {
                    return self
                        .symbols
                        .get((index + code - first) as usize)
                        .copied()
                        .ok_or_else(|| "deflate: bad code".to_string());
                }
                index += count;
                first += count;
                first <<= 1;
                code <<= 1;
            }
            Err("deflate: bad code".into())
        }
    }

    const LEN_BASE: [u16; 29] = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
        131, 163, 195, 227, 258,
    ];
    const LEN_EXTRA: [u8; 29] = [
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
    ];
    const DIST_BASE: [u16; 30] = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
        2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
    ];
    const DIST_EXTRA: [u8; 30] = [
        0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13,
    ];

    pub fn inflate(src: &[u8]) -> Result<Vec<u8>, String> {
        let mut b = Bits { src, pos: 0 };
        let mut out = Vec::new();
        loop {
            let last = b.bit()?;
            match b.bits(2)? {
                0 => {
                    b.pos = b.pos.div_ceil(8) * 8;
                    let at = b.pos / 8;
                    let hdr = src.get(at..at + 4).ok_or("deflate: short stored")?;
                    let len = usize::from(u16::from_le_bytes([hdr[0], hdr[1]]));
                    let data = src.get(at + 4..at + 4 + len).ok_or("deflate: short")?;
                    out.extend_from_slice(data);
                    b.pos = (at + 4 + len) * 8;
                }
                1 => {
                    let mut l = [8u8; 288];
                    l[144..256].fill(9);
                    l[256..280].fill(7);
                    block(&mut b, &mut out, &Huffman::new(&l), &Huffman::new(&[5; 30]))?;
                }
                2 => {
                    let hlit = b.bits(5)? as usize + 257;
                    let hdist = b.bits(5)? as usize + 1;
                    let hclen = b.bits(4)? as usize + 4;
                    const ORDER: [usize; 19] = [
                        16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
                    ];
                    let mut cl = [0u8; 19];
                    for &i in ORDER.iter().take(hclen) {
                        cl[i] = b.bits(3)? as u8;
                    }
                    let clh = Huffman::new(&cl);
                    let mut lens = Vec::with_capacity(hlit + hdist);
                    while lens.len() < hlit + hdist {
                        let sym = clh.decode(&mut b)?;
                        match sym {
                            0..=15 => lens.push(sym as u8),
                            16 => {
                                let prev = *lens.last().ok_or("deflate: repeat at start")?;
                                let n = 3 + b.bits(2)?;
                                lens.extend(std::iter::repeat_n(prev, n as usize));
                            }
                            17 => {
                                let n = 3 + b.bits(3)?;
                                lens.extend(std::iter::repeat_n(0, n as usize));
                            }
                            _ => {
                                let n = 11 + b.bits(7)?;
                                lens.extend(std::iter::repeat_n(0, n as usize));
                            }
                        }
                    }
                    let lit = Huffman::new(&lens[..hlit]);
                    let dist = Huffman::new(&lens[hlit..hlit + hdist]);
                    block(&mut b, &mut out, &lit, &dist)?;
                }
                _ => return Err("deflate: bad block type".into()),
            }
            if last == 1 {
                return Ok(out);
            }
        }
    }

    fn block(
        b: &mut Bits<'_>,
        out: &mut Vec<u8>,
        lit: &Huffman,
        dist: &Huffman,
    ) -> Result<(), String> {
        loop {
            let sym = lit.decode(b)? as usize;
            if sym < 256 {
                out.push(sym as u8);
                continue;
            }
            if sym == 256 {
                return Ok(());
            }
            let i = sym - 257;
            let len = usize::from(*LEN_BASE.get(i).ok_or("deflate: bad length")?)
                + b.bits(u32::from(LEN_EXTRA[i]))? as usize;
            let d = dist.decode(b)? as usize;
            let back = usize::from(*DIST_BASE.get(d).ok_or("deflate: bad distance")?)
                + b.bits(u32::from(DIST_EXTRA[d]))? as usize;
            let start = out
                .len()
                .checked_sub(back)
                .ok_or("deflate: distance too far")?;
            for k in 0..len {
                out.push(out[start + k]);
            }
        }
    }
}
