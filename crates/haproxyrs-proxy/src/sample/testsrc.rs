//! A plain-data [`SampleSource`] for the sample unit tests.

use std::net::SocketAddr;

use haproxyrs_config::ir::sample::VarScope;
use haproxyrs_config::ir::Userlist;

use super::source::{Phase, Sample, SampleSource};

#[derive(Default)]
pub struct TestSource {
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
    pub buffer: Vec<u8>,
    pub final_: bool,
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub headers: Vec<(String, String)>,
    pub phase: Phase,
    pub status: Option<u16>,
    pub res_headers: Vec<(String, String)>,
    pub vars: Vec<(VarScope, String, String)>,
    pub userlists: Vec<Userlist>,
}

impl TestSource {
    pub fn http(method: &str, uri: &str, headers: &[(&str, &str)]) -> Self {
        TestSource {
            final_: true,
            method: Some(method.into()),
            uri: Some(uri.into()),
            version: Some("1.1".into()),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }
}

impl SampleSource for TestSource {
    fn src(&self) -> Option<SocketAddr> {
        self.src
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.dst
    }
    fn req_buffer(&self) -> &[u8] {
        &self.buffer
    }
    fn req_final(&self) -> bool {
        self.final_
    }
    fn method(&self) -> Option<&[u8]> {
        self.method.as_deref().map(str::as_bytes)
    }
    fn uri(&self) -> Option<&[u8]> {
        self.uri.as_deref().map(str::as_bytes)
    }
    fn http_version(&self) -> Option<&[u8]> {
        self.version.as_deref().map(str::as_bytes)
    }
    fn req_header_count(&self) -> usize {
        self.headers.len()
    }
    fn req_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.headers
            .get(i)
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }
    fn phase(&self) -> Phase {
        self.phase
    }
    fn status(&self) -> Option<u16> {
        self.status
    }
    fn res_header_count(&self) -> usize {
        self.res_headers.len()
    }
    fn res_header(&self, i: usize) -> Option<(&[u8], &[u8])> {
        self.res_headers
            .get(i)
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
    }
    fn frontend_name(&self) -> Option<&str> {
        Some("fe")
    }
    fn backend_name(&self) -> Option<&str> {
        Some("be")
    }
    fn nbsrv(&self, backend: Option<&str>) -> Option<i64> {
        match backend {
            None | Some("be") => Some(2),
            _ => None,
        }
    }
    fn srv_is_up(&self, _backend: Option<&str>, server: &str) -> Option<bool> {
        Some(server == "s1")
    }
    fn userlist(&self, name: &str) -> Option<&Userlist> {
        self.userlists.iter().find(|u| u.name == name)
    }
    fn var(&self, scope: VarScope, name: &str) -> Option<Sample<'_>> {
        self.vars
            .iter()
            .find(|(s, n, _)| *s == scope && n == name)
            .map(|(_, _, v)| Sample::Str(v.as_bytes()))
    }
}

/// Counts this thread's heap allocations, to prove the evaluation paths allocate nothing.
pub mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static COUNT: Cell<usize> = const { Cell::new(0) };
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            COUNT.with(|c| c.set(c.get() + 1));
            // SAFETY: forwarded unchanged to the system allocator.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// Allocations made by this thread so far.
    pub fn allocations() -> usize {
        COUNT.with(|c| c.get())
    }
}
