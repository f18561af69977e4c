//! A Google Cloud Storage stand-in on loopback for the tests: `tests/gcs/server.py`, an
//! in-memory server of the XML API that `object_store`'s GCS client speaks (no emulator on PyPI
//! serves it: see the server's docstring), started with `python3` (`$PHOTOPRESS_PYTHON` to
//! choose another), waited for, killed on drop. It needs nothing but Python 3's standard
//! library.
//!
//! A photopress process reaches it through [`Gcs::env`]: `GOOGLE_SERVICE_ACCOUNT` names a
//! service-account file whose `gcs_base_url` is the server and whose `disable_oauth` makes the
//! client send an empty bearer token instead of signing a JWT and fetching an OAuth token (the
//! file's `private_key`, `private_key_id` and `client_email` must be there, strings, but are
//! never read then). Nothing else is needed: unlike the S3 and Azure builders, the GCS builder
//! allows plain `http://` by default (`GOOGLE_ALLOW_HTTP=false` would forbid it). A caller
//! should remove the machine's own `GOOGLE_*` variables (and `SERVICE_ACCOUNT`, an alias of
//! `GOOGLE_SERVICE_ACCOUNT`): `GOOGLE_BASE_URL` would win over the file's address, and
//! `GOOGLE_SERVICE_ACCOUNT_KEY` beside the file is an error.
//!
//! The tests' own requests (create a bucket, put, get, list, delete) are plain HTTP/1.1 here,
//! not `object_store` (whose client reads its credentials from the environment only, and this
//! crate cannot set variables in its own process) and not photopress, whose behaviour is what
//! is tested.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Gcs {
    child: Child,
    pub port: u16,
    /// The service-account file of [`Gcs::env`]; removed on drop.
    key_file: tempfile::NamedTempFile,
    /// Held open: the server stops by itself when it closes (this process died unwound).
    _stdin: Option<ChildStdin>,
}

fn server_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gcs/server.py")
}

/// One answer: status and body.
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Percent-encodes every byte but ASCII letters and digits, as `object_store` does for keys
/// (`in/leaf.jpg` → `in%2Fleaf%2Ejpg`) and query values.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The text of an XML element, its five predefined entities decoded (and numeric ones).
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The first `<tag>...</tag>` of `xml`, unescaped.
fn field(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))?;
    Some(unescape(&xml[start..start + end]))
}

impl Gcs {
    pub fn start() -> Gcs {
        let server = server_path();
        assert!(
            server.is_file(),
            "the GCS stand-in is missing: {}",
            server.display()
        );
        let python = std::env::var_os("PHOTOPRESS_PYTHON").unwrap_or_else(|| "python3".into());
        // Port 0: the server binds a free loopback port itself and prints it (no window in
        // which another process could take a port chosen here).
        let mut child = Command::new(&python)
            .arg(&server)
            .args(["--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start the GCS stand-in ({} {}): {e}; it needs Python 3 \
                     (set PHOTOPRESS_PYTHON to another interpreter)",
                    python.to_string_lossy(),
                    server.display()
                )
            });
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("the stand-in's stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let port = match (read, line.trim().parse::<u16>()) {
            (Ok(_), Ok(port)) if port != 0 => port,
            (read, _) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "the GCS stand-in ({}) did not say its port: read {read:?}, line {line:?}, \
                     exit {status:?}",
                    server.display()
                );
            }
        };
        let key_file = tempfile::Builder::new()
            .prefix("photopress-gcs-key-")
            .suffix(".json")
            .tempfile()
            .expect("a temporary service-account file");
        let key = serde_json::json!({
            "type": "service_account",
            "private_key": "unused: disable_oauth",
            "private_key_id": "unused",
            "client_email": "photopress-tests@example.invalid",
            "disable_oauth": true,
            "gcs_base_url": format!("http://127.0.0.1:{port}"),
        });
        std::fs::write(key_file.path(), key.to_string()).expect("write the service-account file");
        let mut gcs = Gcs {
            child,
            port,
            key_file,
            _stdin: stdin,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = gcs.child.try_wait() {
                panic!("the GCS stand-in exited at start: {status}");
            }
            match gcs.request("GET", "/", &[], b"") {
                Ok(r) if r.status == 200 => return gcs,
                Ok(r) => panic!("the GCS stand-in answered {}: {}", r.status, r.text()),
                Err(_) => {}
            }
            assert!(
                Instant::now() < deadline,
                "the GCS stand-in did not answer on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl crate::common::Store for Gcs {
    /// The environment a photopress process needs to reach this server (see the module
    /// comment); remove the machine's own `GOOGLE_*` variables first.
    fn env(&self) -> Vec<(String, String)> {
        vec![(
            "GOOGLE_SERVICE_ACCOUNT".into(),
            self.key_file.path().to_string_lossy().into_owned(),
        )]
    }

    /// Creates a bucket (the stand-in's `PUT /{bucket}`).
    fn create(&self, name: &str) {
        let r = self
            .request("PUT", &format!("/{}", encode(name)), &[], b"")
            .unwrap_or_else(|e| panic!("create bucket {name}: {e}"));
        assert_eq!(r.status, 200, "create bucket {name}: {}", r.text());
    }

    /// Writes an object. Any key goes, even those object_store refuses (`a//b.jpg`, `..`, `x/`):
    /// it is percent-encoded whole, and the server decodes it.
    fn put(&self, bucket: &str, key: &str, bytes: &[u8]) {
        let r = self
            .request("PUT", &object_path(bucket, key), &[], bytes)
            .unwrap_or_else(|e| panic!("put {bucket}/{key}: {e}"));
        assert_eq!(r.status, 200, "put {bucket}/{key}: {}", r.text());
    }

    /// The object's bytes; `None` when it does not exist.
    fn get(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        let r = self
            .request("GET", &object_path(bucket, key), &[], b"")
            .unwrap_or_else(|e| panic!("get {bucket}/{key}: {e}"));
        match r.status {
            200 => Some(r.body),
            404 => None,
            status => panic!("get {bucket}/{key}: {status} {}", r.text()),
        }
    }

    /// Deletes an object (that must exist: GCS answers 404 otherwise).
    fn delete(&self, bucket: &str, key: &str) {
        let r = self
            .request("DELETE", &object_path(bucket, key), &[], b"")
            .unwrap_or_else(|e| panic!("delete {bucket}/{key}: {e}"));
        assert_eq!(r.status, 204, "delete {bucket}/{key}: {}", r.text());
    }

    /// Every object whose key starts with `prefix` (`""`: the whole bucket), with its size, in
    /// key order (every page of the listing).
    fn list(&self, bucket: &str, prefix: &str) -> Vec<(String, u64)> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut path = format!("/{}?list-type=2&prefix={}", encode(bucket), encode(prefix));
            if let Some(token) = &token {
                path.push_str(&format!("&continuation-token={}", encode(token)));
            }
            let r = self
                .request("GET", &path, &[], b"")
                .unwrap_or_else(|e| panic!("list {bucket}/{prefix}: {e}"));
            let text = r.text();
            assert_eq!(r.status, 200, "list {bucket}/{prefix}: {text}");
            for entry in text.split("<Contents>").skip(1) {
                let key = field(entry, "Key").expect("a listed object's key");
                let size = field(entry, "Size")
                    .and_then(|s| s.parse().ok())
                    .expect("a listed object's size");
                found.push((key, size));
            }
            token = field(&text, "NextContinuationToken");
            if token.is_none() {
                found.sort();
                return found;
            }
        }
    }
}

impl Gcs {
    /// One HTTP/1.1 request, `path_and_query` sent as given (already encoded).
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<Response> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = format!(
            "{method} {path_and_query} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: {}\r\n\
             Connection: close\r\n",
            self.port,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let bad = |what: &str| {
            std::io::Error::other(format!(
                "{what}: {:?}",
                String::from_utf8_lossy(&raw[..raw.len().min(200)])
            ))
        };
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| bad("no end of headers"))?;
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| bad("not an HTTP response"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let mut body = raw[split + 4..].to_vec();
        if method != "HEAD"
            && let Some(len) = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
        {
            body.truncate(len);
        }
        Ok(Response { status, body })
    }

    /// Stops the server now (for tests of a server that goes away).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn object_path(bucket: &str, key: &str) -> String {
    format!("/{}/{}", encode(bucket), encode(key))
}

impl Drop for Gcs {
    fn drop(&mut self) {
        self.kill();
    }
}
