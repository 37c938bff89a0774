//! Splitting HTTP pieces on borrowed bytes, without allocating: the path and query of a
//! request target, comma-separated header values, cookies, and query-string parameters.

/// The path of a request target: origin form up to `?`; absolute form from the first `/`
/// after the authority. `None` for `*`, authority form, or an absolute URI without a path.
pub fn uri_path(uri: &[u8]) -> Option<&[u8]> {
    let from = if uri.first() == Some(&b'/') {
        uri
    } else {
        let scheme_end = find(uri, b"://")?;
        let after = &uri[scheme_end + 3..];
        let slash = after.iter().position(|&c| c == b'/')?;
        &after[slash..]
    };
    let end = from.iter().position(|&c| c == b'?').unwrap_or(from.len());
    Some(&from[..end])
}

/// Path and query (`pathq`): the target from its path on.
pub fn uri_pathq(uri: &[u8]) -> Option<&[u8]> {
    if uri.first() == Some(&b'/') {
        return Some(uri);
    }
    let scheme_end = find(uri, b"://")?;
    let after = &uri[scheme_end + 3..];
    let slash = after.iter().position(|&c| c == b'/')?;
    Some(&after[slash..])
}

/// What follows the first `?` (empty when the `?` ends the target); `None` without `?`.
pub fn uri_query(uri: &[u8]) -> Option<&[u8]> {
    let q = uri.iter().position(|&c| c == b'?')?;
    Some(&uri[q + 1..])
}

/// `name=value` parameters of a query string separated by `delim` (default `&`): calls
/// `visit` with each value whose name is `name` (every parameter when `name` is empty),
/// until it returns false.
pub fn query_params<'a>(
    query: &'a [u8],
    name: &[u8],
    delim: u8,
    visit: &mut dyn FnMut(&'a [u8]) -> bool,
) {
    for part in query.split(|&c| c == delim || c == b'#') {
        let (n, v) = match part.iter().position(|&c| c == b'=') {
            Some(eq) => (&part[..eq], &part[eq + 1..]),
            None => (part, &part[part.len()..]),
        };
        let wanted = (name.is_empty() && !part.is_empty()) || (!name.is_empty() && n == name);
        if wanted && !visit(v) {
            return;
        }
    }
}

/// The comma-separated elements of a header value, blanks trimmed, commas inside double
/// quotes kept: calls `visit` with each until it returns false. Returns false if stopped.
pub fn split_commas<'a>(value: &'a [u8], visit: &mut dyn FnMut(&'a [u8]) -> bool) -> bool {
    let mut start = 0;
    let mut in_quote = false;
    let mut i = 0;
    while i < value.len() {
        match value[i] {
            b'"' => in_quote = !in_quote,
            b'\\' if in_quote => i += 1,
            b',' if !in_quote => {
                if !visit(super::source::trim_ows(&value[start..i])) {
                    return false;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    visit(super::source::trim_ows(&value[start.min(value.len())..]))
}

/// The cookies of one `Cookie:` header value (`a=1; b=2`): calls `visit(name, value)`
/// until it returns false. Returns false if stopped.
pub fn cookies<'a>(value: &'a [u8], visit: &mut dyn FnMut(&'a [u8], &'a [u8]) -> bool) -> bool {
    for part in value.split(|&c| c == b';') {
        let part = super::source::trim_ows(part);
        if part.is_empty() {
            continue;
        }
        let (n, v) = match part.iter().position(|&c| c == b'=') {
            Some(eq) => (
                super::source::trim_ows(&part[..eq]),
                super::source::trim_ows(&part[eq + 1..]),
            ),
            None => continue,
        };
        if !visit(n, v) {
            return false;
        }
    }
    true
}

/// The `name=value` of a `Set-Cookie:` header (attributes after `;` ignored).
pub fn set_cookie(value: &[u8]) -> Option<(&[u8], &[u8])> {
    let first = value.split(|&c| c == b';').next()?;
    let eq = first.iter().position(|&c| c == b'=')?;
    Some((
        super::source::trim_ows(&first[..eq]),
        super::source::trim_ows(&first[eq + 1..]),
    ))
}

/// First position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_queries() {
        assert_eq!(uri_path(b"/p/q;x?k=1"), Some(&b"/p/q;x"[..]));
        assert_eq!(uri_path(b"http://foo:80/abs?q"), Some(&b"/abs"[..]));
        assert_eq!(uri_path(b"http://foo:80"), None);
        assert_eq!(uri_path(b"*"), None);
        assert_eq!(uri_pathq(b"http://h/a?b"), Some(&b"/a?b"[..]));
        assert_eq!(uri_query(b"/?k"), Some(&b"k"[..]));
        assert_eq!(uri_query(b"/?"), Some(&b""[..]));
        assert_eq!(uri_query(b"/"), None);
    }

    #[test]
    fn params() {
        let mut got = Vec::new();
        query_params(b"k=1&k=2&z&kk=3", b"k", b'&', &mut |v| {
            got.push(v.to_vec());
            true
        });
        assert_eq!(got, vec![b"1".to_vec(), b"2".to_vec()]);
        let mut got = Vec::new();
        query_params(b"a=1;b=2", b"b", b';', &mut |v| {
            got.push(v.to_vec());
            true
        });
        assert_eq!(got, vec![b"2".to_vec()]);
    }

    #[test]
    fn commas_and_cookies() {
        let mut got = Vec::new();
        split_commas(b"a, b ,\"c,d\"", &mut |v| {
            got.push(v.to_vec());
            true
        });
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"\"c,d\"".to_vec()]);
        let mut got = Vec::new();
        cookies(b"c=1; d=2;c = 3;junk", &mut |n, v| {
            got.push((n.to_vec(), v.to_vec()));
            true
        });
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], (b"c".to_vec(), b"3".to_vec()));
        assert_eq!(
            set_cookie(b"SID=abc; Path=/"),
            Some((&b"SID"[..], &b"abc"[..]))
        );
    }
}
