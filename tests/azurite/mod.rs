//! Azurite (Microsoft's Azure Blob Storage emulator, npm `azurite`) on loopback for the tests:
//! started on a free port with its data in a temporary folder, waited for, killed on drop. The server is
//! `$PHOTOPRESS_AZURITE`, else `.tools/azurite/node_modules/.bin/azurite-blob` in the repository
//! (made by scripts/install-deps.sh). Without it the tests fail, saying so.
//!
//! The tests' own requests (create a container, put, get, list, delete) go through a small
//! REST client here, signed with the emulator's well-known account key (Shared Key): not through
//! `object_store`, whose Azure client reads the emulator's address from the environment only,
//! and not through photopress, whose behaviour is what is tested.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The emulator's account and key (public: Azurite's documentation gives them).
pub const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const VERSION: &str = "2021-08-06";

pub struct Azurite {
    child: Child,
    pub port: u16,
    _data: tempfile::TempDir,
}

fn server_path() -> PathBuf {
    match std::env::var_os("PHOTOPRESS_AZURITE") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(".tools/azurite/node_modules/.bin/azurite-blob"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

impl Azurite {
    pub fn start() -> Azurite {
        let server = server_path();
        assert!(
            server.exists(),
            "azurite-blob not found at {}: run scripts/install-deps.sh (or set \
             PHOTOPRESS_AZURITE to an azurite-blob executable)",
            server.display()
        );
        let port = free_port();
        let data = tempfile::tempdir().expect("azurite workspace");
        let child = Command::new(&server)
            .args([
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                &port.to_string(),
                "--location",
            ])
            .arg(data.path())
            .args([
                "--disableTelemetry",
                "--loose",
                "--skipApiVersionCheck",
                "--silent",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let mut azurite = Azurite {
            child,
            port,
            _data: data,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = azurite.child.try_wait() {
                panic!("{} exited at start: {status}", server.display());
            }
            if azurite.request("GET", "", "comp=list", &[], &[]).is_ok() {
                return azurite;
            }
            assert!(
                Instant::now() < deadline,
                "azurite did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl crate::common::Store for Azurite {
    /// The environment a photopress process needs to reach this emulator: object_store's
    /// emulator switch and its address (the account and key are the emulator's defaults).
    fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AZURE_STORAGE_USE_EMULATOR".into(), "true".into()),
            (
                "AZURITE_BLOB_STORAGE_URL".into(),
                format!("http://127.0.0.1:{}", self.port),
            ),
        ]
    }

    fn create(&self, name: &str) {
        let (status, body) = self
            .request("PUT", name, "restype=container", &[], &[])
            .unwrap_or_else(|e| panic!("create container {name}: {e}"));
        assert_eq!(status, 201, "create container {name}: {body:?}");
    }

    fn put(&self, container: &str, key: &str, bytes: &[u8]) {
        let path = format!("{container}/{key}");
        let (status, body) = self
            .request("PUT", &path, "", &[("x-ms-blob-type", "BlockBlob")], bytes)
            .unwrap_or_else(|e| panic!("put {path}: {e}"));
        assert_eq!(status, 201, "put {path}: {body:?}");
    }

    fn get(&self, container: &str, key: &str) -> Option<Vec<u8>> {
        let path = format!("{container}/{key}");
        let (status, body) = self
            .request("GET", &path, "", &[], &[])
            .unwrap_or_else(|e| panic!("get {path}: {e}"));
        match status {
            200 => Some(body),
            404 => None,
            _ => panic!("get {path}: {status} {}", String::from_utf8_lossy(&body)),
        }
    }

    fn delete(&self, container: &str, key: &str) {
        let path = format!("{container}/{key}");
        let (status, body) = self
            .request("DELETE", &path, "", &[], &[])
            .unwrap_or_else(|e| panic!("delete {path}: {e}"));
        assert_eq!(status, 202, "delete {path}: {body:?}");
    }

    /// Every blob below `prefix` (`""`: the whole container), by name, with its size.
    fn list(&self, container: &str, prefix: &str) -> Vec<(String, u64)> {
        let query = format!("restype=container&comp=list&prefix={prefix}");
        let (status, body) = self
            .request("GET", container, &query, &[], &[])
            .unwrap_or_else(|e| panic!("list {container}: {e}"));
        let text = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(status, 200, "list {container}: {text}");
        let mut found = Vec::new();
        for blob in text.split("<Blob>").skip(1) {
            let field = |tag: &str| {
                let open = format!("<{tag}>");
                let start = blob.find(&open).map(|i| i + open.len())?;
                let end = blob[start..].find(&format!("</{tag}>"))?;
                Some(blob[start..start + end].to_string())
            };
            let name = field("Name").expect("a blob's name");
            let size = field("Content-Length")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            found.push((name, size));
        }
        found.sort();
        found
    }
}

impl Azurite {
    /// One signed request to `/{ACCOUNT}/{path}?{query}`; returns the status and the body.
    fn request(
        &self,
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let date = http_date();
        let mut ms: Vec<(String, String)> = vec![
            ("x-ms-date".into(), date),
            ("x-ms-version".into(), VERSION.into()),
        ];
        ms.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        ms.sort();
        let canonical_headers: String = ms.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
        let mut params: Vec<(&str, &str)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        params.sort();
        let mut resource = format!("/{ACCOUNT}/{ACCOUNT}/{path}");
        for (k, v) in &params {
            resource.push_str(&format!("\n{k}:{v}"));
        }
        let length = if body.is_empty() {
            String::new()
        } else {
            body.len().to_string()
        };
        let to_sign =
            format!("{method}\n\n\n{length}\n\n\n\n\n\n\n\n\n{canonical_headers}{resource}");
        let signature = base64(&hmac_sha256(&unbase64(KEY), to_sign.as_bytes()));
        let target = if query.is_empty() {
            format!("/{ACCOUNT}/{path}")
        } else {
            format!("/{ACCOUNT}/{path}?{query}")
        };
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Authorization: SharedKey {ACCOUNT}:{signature}\r\nConnection: close\r\n",
            self.port,
            body.len()
        );
        for (k, v) in &ms {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| std::io::Error::other("no HTTP header end"))?;
        let head = String::from_utf8_lossy(&answer[..split]).into_owned();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
        let mut body = answer[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = unchunk(&body);
        }
        Ok((status, body))
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unchunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = line_end + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// Now as an HTTP date (`Sat, 05 Dec 2026 09:00:00 GMT`).
fn http_date() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days = secs / 86_400;
    let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {h:02}:{m:02}:{s:02} GMT",
        months[(month - 1) as usize]
    )
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = block.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = block.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize()
        .to_vec()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unbase64(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
