//! A moto S3 server on loopback for the tests: started on a free port, waited for, killed on
//! drop. The server is `$PHOTOPRESS_MOTO_SERVER`, else `.tools/moto-venv/bin/moto_server` in the
//! repository (made by scripts/install-deps.sh). Without it the tests fail, saying so: a
//! storage test that skips itself would pass without testing anything.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use photopress::storage::{Bucket, BucketOptions, Credentials, ObjectUrl};

pub struct Moto {
    child: Child,
    pub port: u16,
}

fn server_path() -> PathBuf {
    match std::env::var_os("PHOTOPRESS_MOTO_SERVER") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/moto-venv/bin/moto_server"),
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("local address").port()
}

impl Moto {
    pub fn start() -> Moto {
        let server = server_path();
        assert!(
            server.is_file(),
            "moto_server not found at {}: run scripts/install-deps.sh (or set \
             PHOTOPRESS_MOTO_SERVER to a moto_server executable)",
            server.display()
        );
        let port = free_port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.display()));
        let mut moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("{} exited at start: {status}", server.display());
            }
            if moto.request("GET", "/", b"").is_ok() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Options that reach this server with dummy credentials, whatever the environment says.
    pub fn options(&self) -> BucketOptions {
        BucketOptions {
            endpoint: Some(self.endpoint()),
            allow_http: Some(true),
            region: Some("us-east-1".to_string()),
            credentials: Some(Credentials {
                access_key_id: "testing".to_string(),
                secret_access_key: "testing".to_string(),
                session_token: None,
            }),
            ..BucketOptions::default()
        }
    }

    pub fn bucket(&self, url: &str) -> Bucket {
        self.bucket_with(url, &self.options())
    }

    pub fn bucket_with(&self, url: &str, options: &BucketOptions) -> Bucket {
        let url = ObjectUrl::parse(url).unwrap_or_else(|e| panic!("{e}"));
        Bucket::connect_with(&url, options).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Creates a bucket (moto takes an unsigned PUT).
    pub fn create_bucket(&self, name: &str) {
        let (status, body) = self
            .request("PUT", &format!("/{name}"), b"")
            .unwrap_or_else(|e| panic!("create bucket {name}: {e}"));
        assert_eq!(status, 200, "create bucket {name}: {body}");
    }

    /// Writes an object under a raw key, sent as is: the way to make keys that our own
    /// interface refuses (`a//b.jpg`, `..`).
    pub fn put_raw(&self, bucket: &str, key: &str, body: &[u8]) {
        let (status, text) = self
            .request("PUT", &format!("/{bucket}/{key}"), body)
            .unwrap_or_else(|e| panic!("put {key}: {e}"));
        assert_eq!(status, 200, "put {key}: {text}");
    }

    /// One HTTP/1.1 request, path as given; returns the status and the body.
    pub fn request(&self, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: \
             application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("not an HTTP response: {text:?}")))?;
        Ok((status, text))
    }

    /// Stops the server now (for tests of a server that goes away).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.kill();
    }
}
