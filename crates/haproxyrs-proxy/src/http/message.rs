//! One message head held for rule processing: the parsed head bytes copied once into a
//! reused buffer, with field offsets into it. Rewrites (`set-header`, `set-path`…) append new
//! bytes to the same buffer and move offsets, so a request costs no allocation once the
//! buffers have grown to the working size.

use std::ops::Range;

use super::head::{Field, RequestHead, ResponseHead, Version};

/// A request or response head that rules can read and rewrite.
#[derive(Clone, Debug, Default)]
pub struct Message {
    /// Head bytes, then bytes appended by rewrites.
    pub data: Vec<u8>,
    /// Request: method. Response: empty.
    pub method: Range<usize>,
    /// Request: request-target. Response: reason phrase.
    pub uri: Range<usize>,
    pub version: Option<Version>,
    pub status: u16,
    pub fields: Vec<Field>,
    /// Variables set by `set-var(scope.name)`: (`scope.name`, value). `txn`/`req`/`res`
    /// ones live for one request; `sess` (and `proc`, kept per session) for the connection.
    pub vars: Vec<(String, Vec<u8>)>,
}

impl Message {
    /// Load a parsed request head from `buf` (the same bytes given to the parser).
    pub fn load_request(&mut self, buf: &[u8], head: &RequestHead, fields: &[Field]) {
        self.data.clear();
        self.data.extend_from_slice(&buf[..head.len]);
        self.method = head.method.clone();
        self.uri = head.uri.clone();
        self.version = Some(head.version);
        self.status = 0;
        self.fields.clear();
        self.fields.extend_from_slice(fields);
        self.vars
            .retain(|(k, _)| k.starts_with("sess.") || k.starts_with("proc."));
    }

    /// Store a variable (`set-var`), replacing an older value.
    pub fn set_var(&mut self, name: &str, value: &[u8]) {
        match self.vars.iter_mut().find(|(k, _)| k == name) {
            Some((_, v)) => {
                v.clear();
                v.extend_from_slice(value);
            }
            None => self.vars.push((name.to_string(), value.to_vec())),
        }
    }

    /// Load a parsed response head.
    pub fn load_response(&mut self, buf: &[u8], head: &ResponseHead, fields: &[Field]) {
        self.data.clear();
        self.data.extend_from_slice(&buf[..head.len]);
        self.method = 0..0;
        self.uri = head.reason.clone();
        self.version = Some(head.version);
        self.status = head.status;
        self.fields.clear();
        self.fields.extend_from_slice(fields);
    }

    pub fn method(&self) -> &[u8] {
        &self.data[self.method.clone()]
    }
    pub fn uri(&self) -> &[u8] {
        &self.data[self.uri.clone()]
    }
    pub fn name(&self, i: usize) -> &[u8] {
        &self.data[self.fields[i].name.clone()]
    }
    pub fn value(&self, i: usize) -> &[u8] {
        &self.data[self.fields[i].value.clone()]
    }

    /// Indexes of the fields named `name` (case-insensitive).
    pub fn find<'a>(&'a self, name: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
        (0..self.fields.len()).filter(move |&i| self.name(i).eq_ignore_ascii_case(name))
    }

    pub fn first(&self, name: &[u8]) -> Option<&[u8]> {
        self.find(name).next().map(|i| self.value(i))
    }

    /// Append bytes to the buffer, returning where they went.
    pub fn push_bytes(&mut self, b: &[u8]) -> Range<usize> {
        let s = self.data.len();
        self.data.extend_from_slice(b);
        s..self.data.len()
    }

    pub fn remove_all(&mut self, name: &[u8]) {
        let data = &self.data;
        self.fields
            .retain(|f| !data[f.name.clone()].eq_ignore_ascii_case(name));
    }

    pub fn add(&mut self, name: &[u8], value: &[u8]) {
        let name = self.push_bytes(name);
        let value = self.push_bytes(value);
        self.fields.push(Field { name, value });
    }

    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        self.remove_all(name);
        self.add(name, value);
    }

    pub fn set_value(&mut self, i: usize, value: &[u8]) {
        let r = self.push_bytes(value);
        self.fields[i].value = r;
    }

    pub fn set_method(&mut self, m: &[u8]) {
        self.method = self.push_bytes(m);
    }

    pub fn set_uri(&mut self, u: &[u8]) {
        self.uri = self.push_bytes(u);
    }

    /// Remove `cut` (offsets within the request target) from the target, copying within
    /// the buffer only when something follows the cut.
    pub fn cut_uri(&mut self, cut: Range<usize>) {
        let u = self.uri.clone();
        let (cut_start, cut_end) = (u.start + cut.start, u.start + cut.end);
        if cut_end == u.end {
            self.uri = u.start..cut_start;
            return;
        }
        let start = self.data.len();
        self.data.extend_from_within(u.start..cut_start);
        self.data.extend_from_within(cut_end..u.end);
        self.uri = start..self.data.len();
    }

    /// Keep the first `len` bytes of field `i`'s value.
    pub fn truncate_value(&mut self, i: usize, len: usize) {
        let v = &mut self.fields[i].value;
        v.end = v.start + len.min(v.end - v.start);
    }

    /// Path of the request target: from the first `/` after an authority (absolute form),
    /// up to `?`.
    pub fn path_range(&self) -> Range<usize> {
        let u = self.uri();
        let start = path_start(u);
        let end = memchr::memchr(b'?', &u[start..]).map_or(u.len(), |q| start + q);
        self.uri.start + start..self.uri.start + end
    }

    pub fn path(&self) -> &[u8] {
        &self.data[self.path_range()]
    }

    /// Query string without the `?`, if any.
    pub fn query(&self) -> Option<&[u8]> {
        let u = self.uri();
        memchr::memchr(b'?', u).map(|q| &u[q + 1..])
    }
}

/// Offset where the path starts in a request target (skipping `scheme://authority`).
pub fn path_start(u: &[u8]) -> usize {
    if u.first() == Some(&b'/') || u == b"*" {
        return 0;
    }
    if let Some(s) = find(u, b"://") {
        let after = s + 3;
        return memchr::memchr(b'/', &u[after..]).map_or(u.len(), |p| after + p);
    }
    0
}

pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// A request message parsed from complete head bytes, for the HTTP modules' unit tests.
#[cfg(test)]
pub(crate) fn test_request(bytes: &[u8]) -> Message {
    use super::head::{parse_request, Limits};
    let mut buf = bytes.to_vec();
    let mut f = Vec::new();
    let h = parse_request(&mut buf, &Limits::default(), &mut f)
        .unwrap()
        .unwrap();
    let mut m = Message::default();
    m.load_request(&buf, &h, &f);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(bytes: &[u8]) -> Message {
        test_request(bytes)
    }

    #[test]
    fn rewrite_fields() {
        let mut m = load(b"GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\n\r\n");
        assert_eq!(m.path(), b"/a/b");
        assert_eq!(m.query(), Some(&b"x=1"[..]));
        assert_eq!(m.find(b"X-A").count(), 2);
        m.set(b"x-a", b"3");
        assert_eq!(m.find(b"x-a").count(), 1);
        assert_eq!(m.first(b"X-A"), Some(&b"3"[..]));
        m.set_uri(b"/z");
        assert_eq!(m.path(), b"/z");
        assert_eq!(m.query(), None);
    }

    #[test]
    fn absolute_form_path() {
        let m = load(b"GET http://a.example/p?q HTTP/1.1\r\nHost: a.example\r\n\r\n");
        assert_eq!(m.path(), b"/p");
        let m = load(b"GET http://a.example HTTP/1.1\r\nHost: a.example\r\n\r\n");
        assert_eq!(m.path(), b"");
    }
}
