//! Samples and conditions: fetches (`path`, `hdr(host)`, `src`…), converters (`lower`,
//! `regsub`…), ACLs with their compiled patterns, `if`/`unless` conditions, and log-format
//! expressions (`%[src]`, `%ci`…). Everything is compiled at load time (patterns lowered for
//! `-i`, big string lists hashed, regexes built, nets parsed); the engines only evaluate
//! (`haproxyrs_proxy::sample`).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::span::Span;

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// Whether `ip` is inside this network. An IPv4 address also matches its IPv4-mapped
    /// IPv6 form and the other way round, as HAProxy's `ip` matcher does.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => v4_in(net.into(), self.prefix, a.into()),
            (IpAddr::V6(net), IpAddr::V6(a)) => v6_in(net.into(), self.prefix, a.into()),
            (IpAddr::V4(net), IpAddr::V6(a)) => match a.to_ipv4_mapped() {
                Some(a4) => v4_in(net.into(), self.prefix, a4.into()),
                None => false,
            },
            (IpAddr::V6(net), IpAddr::V4(a)) => {
                let mapped: u128 = a.to_ipv6_mapped().into();
                v6_in(net.into(), self.prefix, mapped)
            }
        }
    }
}

fn v4_in(net: u32, prefix: u8, a: u32) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    (net & mask) == (a & mask)
}

fn v6_in(net: u128, prefix: u8, a: u128) -> bool {
    let mask = if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    };
    (net & mask) == (a & mask)
}

/// The type of a sample, as HAProxy types fetch outputs and converter inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleType {
    Bool,
    Int,
    Str,
    Ip,
    Bin,
}

/// A variable's scope (`proc.`, `sess.`, `txn.`, `req.`, `res.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VarScope {
    Proc,
    Sess,
    Txn,
    Req,
    Res,
}

/// A sample fetch with its arguments, resolved at load time.
#[derive(Clone, Debug, PartialEq)]
pub enum Fetch {
    // --- constants (`always_true`, `int(3)`, `str(x)`, `ipv4(…)`, `env(NAME)` read at load).
    Bool(bool),
    Int(i64),
    Str(String),
    Ip(IpAddr),

    // --- layer 4.
    Src,
    SrcPort,
    Dst,
    DstPort,

    // --- layer 5/6: the request buffer (tcp-request content inspection).
    /// `req.len`: bytes in the request buffer.
    ReqLen,
    /// `req.payload(offset,len)`: `len == 0` means "to the end of the buffer".
    ReqPayload {
        offset: usize,
        len: usize,
    },
    /// `req.ssl_sni` / `req_ssl_sni`: the SNI of a TLS ClientHello in the buffer.
    ReqSslSni,
    /// `req.ssl_hello_type`: 1 for a ClientHello, 2 for a ServerHello.
    ReqSslHelloType,
    /// `req.ssl_alpn`: the first protocol of the ClientHello's ALPN extension.
    ReqSslAlpn,
    /// `req.ssl_ver`: the TLS version announced by the ClientHello record.
    ReqSslVer,
    /// `req.proto_http`: the buffer holds a parseable HTTP request head.
    ReqProtoHttp,
    /// `ssl_fc`: the front connection is TLS (always false until TLS lands).
    SslFc,
    /// `ssl_fc_sni`: the SNI of a terminated TLS connection (absent until TLS lands).
    SslFcSni,

    // --- HTTP request.
    Method,
    /// `path`: the URI's path, without query string (and without authority in absolute form).
    Path,
    /// `pathq`: path and query.
    PathQ,
    /// `url`: the request target as received.
    Url,
    /// `base`: `Host` header value followed by the path.
    Base,
    Query,
    /// `req.ver` / `req_ver`: `1.1`, `1.0`.
    ReqVer,
    /// `url_param(name[,delim])` / `urlp`: first value of a query parameter.
    UrlParam {
        name: String,
        delim: Option<u8>,
    },
    /// `hdr(name[,occ])` / `req.hdr` (values split at commas) and `req.fhdr` (`full`: not
    /// split). `occ`: 1-based from the first, negative from the last; `None`: the last one
    /// as a sample, every one in an ACL.
    ReqHdr {
        name: String,
        occ: Option<i32>,
        full: bool,
    },
    /// `hdr(name[,occ])`, `hdr_cnt(name)`, `hdr_val(name[,occ])` without a `req.`/`res.`
    /// prefix: the request's headers, or the response's in response rules (as HAProxy).
    Hdr {
        name: String,
        occ: Option<i32>,
    },
    HdrCnt {
        name: String,
    },
    HdrVal {
        name: String,
        occ: Option<i32>,
    },
    /// `hdr_cnt(name)` / `req.hdr_cnt`, `req.fhdr_cnt`: number of occurrences.
    ReqHdrCnt {
        name: String,
        full: bool,
    },
    /// `hdr_val(name[,occ])` / `req.hdr_val`: the value as an integer.
    ReqHdrVal {
        name: String,
        occ: Option<i32>,
    },
    /// `hdr_ip(name[,occ])` / `req.hdr_ip`: the value as an IP address.
    ReqHdrIp {
        name: String,
        occ: Option<i32>,
    },
    /// `req.cook(name)` / `cook(name)`: the last occurrence as a sample, all in an ACL.
    ReqCook {
        name: String,
    },
    ReqCookCnt {
        name: String,
    },
    ReqCookVal {
        name: String,
    },
    /// `http_auth(userlist)`: the `Authorization: Basic` credentials are valid.
    HttpAuth {
        userlist: String,
    },
    /// `http_auth_group(userlist)`: the groups of the authenticated user (matched
    /// against the group names given as patterns).
    HttpAuthGroup {
        userlist: String,
    },

    // --- HTTP response.
    Status,
    ResHdr {
        name: String,
        occ: Option<i32>,
        full: bool,
    },
    ResHdrCnt {
        name: String,
        full: bool,
    },
    ResHdrVal {
        name: String,
        occ: Option<i32>,
    },
    ResCook {
        name: String,
    },

    // --- captures (kept for logs).
    /// `capture.req.method`, `capture.req.uri`, `capture.req.ver` (`HTTP/1.1`).
    CaptureReqMethod,
    CaptureReqUri,
    CaptureReqVer,
    /// `capture.res.ver`.
    CaptureResVer,
    /// `capture.req.hdr(N)` / `capture.res.hdr(N)`: the Nth `capture … header` slot.
    CaptureHdr {
        response: bool,
        index: usize,
    },

    // --- internal state.
    /// `nbsrv([backend])`: usable servers of a backend (`None`: the current one).
    NbSrv {
        backend: Option<String>,
    },
    /// `srv_is_up([backend/]server)`.
    SrvIsUp {
        backend: Option<String>,
        server: String,
    },
    /// `be_name`, `fe_name`.
    BeName,
    FeName,
    /// `var(scope.name[,default])`: the default (a string) when the variable is unset.
    Var {
        scope: VarScope,
        name: String,
        default: Option<String>,
    },
    /// A fetch HAProxy 2.6 knows but haproxyrs does not evaluate (stick counters,
    /// TLS details…): accepted with a NOTICE; it never yields a value.
    Unimplemented {
        name: String,
        output: SampleType,
    },
}

/// Which stages of a session a fetch needs data from (HAProxy's "may not be reliably used
/// here" checks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchNeeds {
    /// Constants and internal state: usable everywhere.
    Always,
    /// The connection's addresses: everywhere.
    L4,
    /// The request buffer: TCP content rules and HTTP request rules.
    ReqBuffer,
    /// HTTP request headers: HTTP request rules, switching rules, response rules.
    HttpRequest,
    /// `hdr()` and friends: request headers, or response headers in response rules.
    HttpHeaders,
    /// The response status: response rules and logs.
    HttpStatus,
    /// HTTP response headers: response rules only.
    HttpResponse,
}

impl FetchNeeds {
    /// How HAProxy names what is missing in "may not be reliably used here" errors.
    pub fn describe(self) -> &'static str {
        match self {
            FetchNeeds::Always | FetchNeeds::L4 => "internal",
            FetchNeeds::ReqBuffer => "request buffer",
            FetchNeeds::HttpRequest => "HTTP request headers",
            FetchNeeds::HttpHeaders => "HTTP request headers,HTTP response headers",
            FetchNeeds::HttpStatus => "HTTP response",
            FetchNeeds::HttpResponse => "HTTP response headers",
        }
    }
}

impl Fetch {
    /// The type this fetch yields.
    pub fn output_type(&self) -> SampleType {
        use Fetch::*;
        match self {
            Bool(_) | ReqProtoHttp | SslFc | HttpAuth { .. } | SrvIsUp { .. } => SampleType::Bool,
            Int(_)
            | SrcPort
            | DstPort
            | ReqLen
            | ReqSslHelloType
            | ReqSslVer
            | Status
            | ReqHdrCnt { .. }
            | ReqHdrVal { .. }
            | ReqCookCnt { .. }
            | ReqCookVal { .. }
            | ResHdrCnt { .. }
            | ResHdrVal { .. }
            | NbSrv { .. }
            | HdrCnt { .. }
            | HdrVal { .. } => SampleType::Int,
            Ip(_) | Src | Dst | ReqHdrIp { .. } => SampleType::Ip,
            Unimplemented { output, .. } => *output,
            ReqPayload { .. } => SampleType::Bin,
            CaptureReqMethod
            | CaptureReqUri
            | CaptureReqVer
            | CaptureResVer
            | CaptureHdr { .. } => SampleType::Str,
            Str(_)
            | SslFcSni
            | ReqSslSni
            | ReqSslAlpn
            | Method
            | Path
            | PathQ
            | Url
            | Base
            | Query
            | ReqVer
            | UrlParam { .. }
            | ReqHdr { .. }
            | ReqCook { .. }
            | HttpAuthGroup { .. }
            | ResHdr { .. }
            | ResCook { .. }
            | BeName
            | FeName
            | Var { .. }
            | Hdr { .. } => SampleType::Str,
        }
    }

    /// What this fetch needs to be available (see [`FetchNeeds`]).
    pub fn needs(&self) -> FetchNeeds {
        use Fetch::*;
        match self {
            Bool(_)
            | Int(_)
            | Str(_)
            | Ip(_)
            | NbSrv { .. }
            | SrvIsUp { .. }
            | BeName
            | FeName
            | Var { .. }
            | SslFc
            | SslFcSni
            | Unimplemented { .. }
            | CaptureReqMethod
            | CaptureReqUri
            | CaptureReqVer
            | CaptureResVer
            | CaptureHdr { .. } => FetchNeeds::Always,
            Src | SrcPort | Dst | DstPort => FetchNeeds::L4,
            ReqLen
            | ReqPayload { .. }
            | ReqSslSni
            | ReqSslAlpn
            | ReqSslHelloType
            | ReqSslVer
            | ReqProtoHttp => FetchNeeds::ReqBuffer,
            Method
            | Path
            | PathQ
            | Url
            | Base
            | Query
            | ReqVer
            | UrlParam { .. }
            | ReqHdr { .. }
            | ReqHdrCnt { .. }
            | ReqHdrVal { .. }
            | ReqHdrIp { .. }
            | ReqCook { .. }
            | ReqCookCnt { .. }
            | ReqCookVal { .. }
            | HttpAuth { .. }
            | HttpAuthGroup { .. } => FetchNeeds::HttpRequest,
            Hdr { .. } | HdrCnt { .. } | HdrVal { .. } => FetchNeeds::HttpHeaders,
            Status => FetchNeeds::HttpStatus,
            ResHdr { .. } | ResHdrCnt { .. } | ResHdrVal { .. } | ResCook { .. } => {
                FetchNeeds::HttpResponse
            }
        }
    }
}

/// A converter applied after a fetch (`,lower`, `,regsub(a,b)`…).
#[derive(Clone, Debug)]
pub enum Converter {
    Lower,
    Upper,
    Base64,
    /// `b64dec`.
    Base64Dec,
    Hex,
    Length,
    /// `field(index,delims[,count])`: 1-based, negative from the end.
    Field {
        index: i32,
        delims: Vec<u8>,
        count: Option<i32>,
    },
    /// `word(index,delims[,count])`: like `field` but empty words are skipped.
    Word {
        index: i32,
        delims: Vec<u8>,
        count: Option<i32>,
    },
    /// `bytes(offset[,length])`.
    Bytes {
        offset: i64,
        length: Option<i64>,
    },
    /// `regsub(regex,replacement[,flags])`: `replacement` is already in `regex` crate
    /// syntax (`\1` became `${1}`, `$` escaped).
    Regsub {
        re: regex::bytes::Regex,
        replacement: Vec<u8>,
        global: bool,
    },
    /// `map(file[,default])` / `map_str`, `map_beg`, `map_sub`, `map_end`, `map_dom`,
    /// `map_dir`, `map_reg`, `map_int`, `map_ip` with string output.
    Map(Box<MapConv>),
    /// `add`, `sub`, `mul`, `div`, `mod`, `and`, `or`, `xor` with a constant or a
    /// variable (`add(txn.n)`).
    Arith {
        op: ArithOp,
        value: ArithArg,
    },
    /// `neg`, `cpl`, `even`, `odd`.
    Neg,
    Cpl,
    Even,
    Odd,
    /// `concat([prefix][,var][,suffix])`.
    Concat {
        prefix: String,
        var: Option<(VarScope, String)>,
        suffix: String,
    },
    /// `sdbm`, `djb2`, `wt6`, `crc32` (`[1]`: with the avalanche mixer): an integer.
    Hash {
        function: super::HashFunction,
        avalanche: bool,
    },
    /// `ltrim(chars)` / `rtrim(chars)`.
    Ltrim(Vec<u8>),
    Rtrim(Vec<u8>),
    /// `ipmask(v4bits[,v6bits])`.
    IpMask {
        v4: u8,
        v6: u8,
    },
    /// `url_dec`.
    UrlDec,
    /// `json([mode])`: escape for a JSON string.
    Json,
    /// `not`, `bool`: integer/boolean logic.
    Not,
    ToBool,
    /// A converter HAProxy 2.6 knows but haproxyrs does not evaluate: accepted with a
    /// NOTICE; applying it fails the sample (no value).
    Unimplemented {
        name: String,
        output: SampleType,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
}

/// The operand of an arithmetic converter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArithArg {
    Int(i64),
    Var(VarScope, String),
}

/// A `map*` converter: a compiled pattern table whose entries carry values.
#[derive(Clone, Debug)]
pub struct MapConv {
    pub method: MatchMethod,
    pub patterns: Patterns,
    /// One value per pattern, in pattern order (`Patterns::index_of` gives the index).
    pub values: Vec<String>,
    pub default: Option<String>,
}

/// A fetch followed by its converters.
#[derive(Clone, Debug)]
pub struct SampleExpr {
    pub fetch: Fetch,
    pub converters: Vec<Converter>,
    /// The expression as written (for messages).
    pub text: String,
}

impl SampleExpr {
    /// The type of the final sample, after converters.
    pub fn output_type(&self) -> SampleType {
        let mut t = self.fetch.output_type();
        for c in &self.converters {
            t = match c {
                Converter::Unimplemented { output, .. } => *output,
                Converter::Length
                | Converter::Arith { .. }
                | Converter::Neg
                | Converter::Cpl
                | Converter::Even
                | Converter::Odd
                | Converter::Hash { .. } => SampleType::Int,
                Converter::Not | Converter::ToBool => SampleType::Bool,
                Converter::IpMask { .. } => SampleType::Ip,
                Converter::Bytes { .. } | Converter::Base64Dec => SampleType::Bin,
                _ => SampleType::Str,
            };
        }
        t
    }
}

/// How a sample is compared to the patterns (`-m str|beg|end|sub|reg|dom|dir|len|found|ip|int|bool`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchMethod {
    Str,
    Beg,
    End,
    Sub,
    Reg,
    Dom,
    Dir,
    Len,
    Found,
    Ip,
    Int,
    Bool,
    Bin,
}

impl MatchMethod {
    pub fn from_name(name: &str) -> Option<MatchMethod> {
        Some(match name {
            "str" => MatchMethod::Str,
            "beg" => MatchMethod::Beg,
            "end" => MatchMethod::End,
            "sub" => MatchMethod::Sub,
            "reg" => MatchMethod::Reg,
            "dom" => MatchMethod::Dom,
            "dir" => MatchMethod::Dir,
            "len" => MatchMethod::Len,
            "found" => MatchMethod::Found,
            "ip" => MatchMethod::Ip,
            "int" => MatchMethod::Int,
            "bool" => MatchMethod::Bool,
            "bin" => MatchMethod::Bin,
            _ => return None,
        })
    }
}

/// Compiled string patterns. With `-i` every pattern is stored lower-cased so the matcher
/// lowers only the sample, byte by byte, without a copy.
#[derive(Clone, Debug, Default)]
pub struct StrPatterns {
    pub items: Vec<Box<[u8]>>,
    pub ignore_case: bool,
    /// For exact matching of many patterns: hash of the (lowered) pattern → indexes in
    /// `items`. Built by [`StrPatterns::new`] when there are more than
    /// [`StrPatterns::SET_THRESHOLD`] patterns.
    pub set: Option<HashMap<u64, Vec<u32>>>,
}

impl StrPatterns {
    pub const SET_THRESHOLD: usize = 8;

    /// Compile patterns; `exact` asks for the hash set when the list is big.
    pub fn new(patterns: Vec<Vec<u8>>, ignore_case: bool, exact: bool) -> Self {
        let items: Vec<Box<[u8]>> = patterns
            .into_iter()
            .map(|mut p| {
                if ignore_case {
                    p.make_ascii_lowercase();
                }
                p.into_boxed_slice()
            })
            .collect();
        let set = (exact && items.len() > Self::SET_THRESHOLD).then(|| {
            let mut map: HashMap<u64, Vec<u32>> = HashMap::new();
            for (i, p) in items.iter().enumerate() {
                map.entry(str_hash(p, false)).or_default().push(i as u32);
            }
            map
        });
        StrPatterns {
            items,
            ignore_case,
            set,
        }
    }
}

/// FNV-1a over the bytes, lower-casing them first when `lower` (no copy needed).
pub fn str_hash(bytes: &[u8], lower: bool) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        let b = if lower { b.to_ascii_lowercase() } else { b };
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Compiled patterns of one ACL term (or one map).
#[derive(Clone, Debug)]
pub enum Patterns {
    /// No pattern (`-m found`, `-m bool`, or none given).
    None,
    Strings(StrPatterns),
    Regexes(Vec<regex::bytes::Regex>),
    /// Integer patterns (for `int` and `len`).
    Ints(Vec<IntRange>),
    Nets(NetPatterns),
    /// `-m bin`: hex-decoded byte strings.
    Bins(Vec<Vec<u8>>),
}

impl Patterns {
    pub fn len(&self) -> usize {
        match self {
            Patterns::None => 0,
            Patterns::Strings(s) => s.items.len(),
            Patterns::Regexes(r) => r.len(),
            Patterns::Ints(i) => i.len(),
            Patterns::Nets(n) => n.nets.len(),
            Patterns::Bins(b) => b.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Compiled address patterns: the networks in file order, and per prefix length (longest
/// first) a hash of the masked network → its first index, so a look-up costs one probe
/// per distinct prefix length and finds the longest match (as HAProxy's trees do).
#[derive(Clone, Debug, Default)]
pub struct NetPatterns {
    pub nets: Vec<IpNet>,
    pub v4: Vec<(u8, HashMap<u32, u32>)>,
    pub v6: Vec<(u8, HashMap<u128, u32>)>,
}

fn mask4(a: u32, prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(prefix.min(32))))
    }
}

fn mask6(a: u128, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(prefix.min(128))))
    }
}

impl NetPatterns {
    pub fn new(nets: Vec<IpNet>) -> Self {
        let mut v4: Vec<(u8, HashMap<u32, u32>)> = Vec::new();
        let mut v6: Vec<(u8, HashMap<u128, u32>)> = Vec::new();
        for (i, n) in nets.iter().enumerate() {
            match n.addr {
                IpAddr::V4(a) => {
                    let p = n.prefix.min(32);
                    let slot = match v4.iter().position(|(l, _)| *l == p) {
                        Some(s) => s,
                        None => {
                            v4.push((p, HashMap::new()));
                            v4.len() - 1
                        }
                    };
                    v4[slot].1.entry(mask4(a.into(), p)).or_insert(i as u32);
                }
                IpAddr::V6(a) => {
                    let p = n.prefix.min(128);
                    let slot = match v6.iter().position(|(l, _)| *l == p) {
                        Some(s) => s,
                        None => {
                            v6.push((p, HashMap::new()));
                            v6.len() - 1
                        }
                    };
                    v6[slot].1.entry(mask6(a.into(), p)).or_insert(i as u32);
                }
            }
        }
        v4.sort_by_key(|e| std::cmp::Reverse(e.0));
        v6.sort_by_key(|e| std::cmp::Reverse(e.0));
        NetPatterns { nets, v4, v6 }
    }

    /// The index of the longest network containing `ip`. An IPv4-mapped IPv6 address is
    /// looked up as IPv4 too, and an IPv4 address as its mapped IPv6 form.
    pub fn find(&self, ip: IpAddr) -> Option<usize> {
        let (v4, v6): (Option<u32>, u128) = match ip {
            IpAddr::V4(a) => (Some(a.into()), a.to_ipv6_mapped().into()),
            IpAddr::V6(a) => (a.to_ipv4_mapped().map(u32::from), a.into()),
        };
        let hit4 = v4.and_then(|a| {
            self.v4
                .iter()
                .find_map(|(p, m)| m.get(&mask4(a, *p)).map(|i| (*p, *i)))
        });
        let hit6 = self
            .v6
            .iter()
            .find_map(|(p, m)| m.get(&mask6(v6, *p)).map(|i| (*p, *i)));
        match (hit4, hit6) {
            (Some((p4, i4)), Some((p6, i6))) => {
                // Compare in IPv6 terms: an IPv4 /p is a mapped /(96 + p).
                Some(if u32::from(p4) + 96 >= u32::from(p6) {
                    i4
                } else {
                    i6
                } as usize)
            }
            (Some((_, i)), None) | (None, Some((_, i))) => Some(i as usize),
            (None, None) => None,
        }
    }
}

/// An integer pattern: `N`, `lt N`, `le N`, `gt N`, `ge N`, `eq N`, `A:B`, `:B`, `A:`.
/// Both bounds are inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

impl IntRange {
    pub fn contains(&self, v: i64) -> bool {
        self.lo.is_none_or(|lo| v >= lo) && self.hi.is_none_or(|hi| v <= hi)
    }
}

/// One ACL declaration line (or an anonymous `{ ... }` ACL).
#[derive(Clone, Debug)]
pub struct AclTerm {
    pub sample: SampleExpr,
    pub method: MatchMethod,
    pub ignore_case: bool,
    pub patterns: Patterns,
    /// The fetch keyword as written (`path_beg`), for messages.
    pub keyword: String,
    pub span: Span,
}

/// A named ACL: all its declaration lines, OR'ed.
#[derive(Clone, Debug)]
pub struct Acl {
    pub name: String,
    pub terms: Vec<AclTerm>,
}

/// Index of an ACL in its proxy's `acls`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AclId(pub usize);

/// What a condition term refers to.
#[derive(Clone, Debug)]
pub enum AclRef {
    Named(AclId),
    Anonymous(Box<AclTerm>),
    Predefined(PredefinedAcl),
}

/// HAProxy's built-in ACLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredefinedAcl {
    True,
    False,
    Http,
    Http10,
    Http11,
    Http20,
    HttpContent,
    HttpUrlAbs,
    HttpUrlSlash,
    HttpUrlStar,
    LocalHost,
    MethConnect,
    MethDelete,
    MethGet,
    MethHead,
    MethOptions,
    MethPost,
    MethPut,
    MethTrace,
    RdpCookie,
    ReqContent,
    WaitEnd,
}

impl PredefinedAcl {
    pub const ALL: [(&'static str, PredefinedAcl); 22] = [
        ("TRUE", PredefinedAcl::True),
        ("FALSE", PredefinedAcl::False),
        ("HTTP", PredefinedAcl::Http),
        ("HTTP_1.0", PredefinedAcl::Http10),
        ("HTTP_1.1", PredefinedAcl::Http11),
        ("HTTP_2.0", PredefinedAcl::Http20),
        ("HTTP_CONTENT", PredefinedAcl::HttpContent),
        ("HTTP_URL_ABS", PredefinedAcl::HttpUrlAbs),
        ("HTTP_URL_SLASH", PredefinedAcl::HttpUrlSlash),
        ("HTTP_URL_STAR", PredefinedAcl::HttpUrlStar),
        ("LOCALHOST", PredefinedAcl::LocalHost),
        ("METH_CONNECT", PredefinedAcl::MethConnect),
        ("METH_DELETE", PredefinedAcl::MethDelete),
        ("METH_GET", PredefinedAcl::MethGet),
        ("METH_HEAD", PredefinedAcl::MethHead),
        ("METH_OPTIONS", PredefinedAcl::MethOptions),
        ("METH_POST", PredefinedAcl::MethPost),
        ("METH_PUT", PredefinedAcl::MethPut),
        ("METH_TRACE", PredefinedAcl::MethTrace),
        ("RDP_COOKIE", PredefinedAcl::RdpCookie),
        ("REQ_CONTENT", PredefinedAcl::ReqContent),
        ("WAIT_END", PredefinedAcl::WaitEnd),
    ];

    pub fn from_name(name: &str) -> Option<PredefinedAcl> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// `[!]acl` in a condition.
#[derive(Clone, Debug)]
pub struct CondTerm {
    pub negated: bool,
    pub acl: AclRef,
}

/// `if|unless` followed by terms: OR of ANDs (`||`/`or` separate the AND groups). An
/// empty condition (`if` alone) never matches, as in HAProxy.
#[derive(Clone, Debug)]
pub struct Condition {
    pub unless: bool,
    pub alternatives: Vec<Vec<CondTerm>>,
    pub span: Span,
}

/// A log-format string (`"%ci:%cp [%tr] %ft %b/%s %[src]"`), compiled.
#[derive(Clone, Debug, Default)]
pub struct LogFormatExpr {
    pub parts: Vec<LogFormatPart>,
}

impl LogFormatExpr {
    /// True when the expression is only literal text (no `%` variable or sample).
    pub fn is_constant(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, LogFormatPart::Literal(_)))
    }
}

/// `%{+Q,-X…}` options of a log-format variable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFlags {
    /// `+Q`: surround with double quotes.
    pub quote: bool,
    /// `+X`: hexadecimal output (numbers, addresses).
    pub hex: bool,
    /// `+E`: escape `"`, `\` and `]` with a backslash.
    pub escape: bool,
    /// `+M`: `-` for an empty value even where HAProxy would print nothing.
    pub mandatory: bool,
}

#[derive(Clone, Debug)]
pub enum LogFormatPart {
    Literal(String),
    /// `%[expr]`.
    Sample {
        expr: SampleExpr,
        flags: LogFlags,
    },
    /// `%ci`, `%ST`, `%Tr`… by their HAProxy alias.
    Var {
        var: LogVar,
        flags: LogFlags,
    },
}

/// The `%` log variables HAProxy defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogVar {
    /// `%o`: a pseudo-variable that makes the flags that follow global.
    GlobalFlags,
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
    FrontendName,
    FrontendNameTransport,
    BackendName,
    BackendSrcIp,
    BackendSrcPort,
    ServerName,
    ServerIp,
    ServerPort,
    StatusCode,
    BytesRead,
    BytesUploaded,
    RequestLine,
    RequestLineClf,
    Method,
    Path,
    PathOnly,
    Query,
    Uri,
    HttpVersion,
    TermState,
    TermStateCookie,
    CookieReq,
    CookieRes,
    Th,
    Ti,
    TR,
    Tq,
    Tw,
    Tc,
    Tr,
    Ta,
    Tt,
    Td,
    Tu,
    AcceptDate,
    AcceptDateGmt,
    AcceptDateLocal,
    AcceptTimestamp,
    RequestDate,
    RequestDateGmt,
    RequestDateLocal,
    RequestTimestamp,
    Ms,
    Pid,
    ActConn,
    FeConn,
    BeConn,
    SrvConn,
    Retries,
    SrvQueue,
    BackendQueue,
    CapturedRequestHeaders,
    CapturedResponseHeaders,
    CapturedRequestHeadersClf,
    CapturedResponseHeadersClf,
    HostName,
    UniqueId,
    RequestCounter,
    LogCounter,
    SslCipher,
    SslVersion,
}

impl LogVar {
    /// Every alias HAProxy 2.6 accepts after `%`, longest first within a shared prefix is
    /// not needed: aliases are matched whole (`%Tr` vs `%T`) by the parser.
    pub const ALIASES: &'static [(&'static str, LogVar)] = &[
        ("o", LogVar::GlobalFlags),
        ("ci", LogVar::ClientIp),
        ("cp", LogVar::ClientPort),
        ("fi", LogVar::FrontendIp),
        ("fp", LogVar::FrontendPort),
        ("f", LogVar::FrontendName),
        ("ft", LogVar::FrontendNameTransport),
        ("b", LogVar::BackendName),
        ("bi", LogVar::BackendSrcIp),
        ("bp", LogVar::BackendSrcPort),
        ("s", LogVar::ServerName),
        ("si", LogVar::ServerIp),
        ("sp", LogVar::ServerPort),
        ("ST", LogVar::StatusCode),
        ("B", LogVar::BytesRead),
        ("U", LogVar::BytesUploaded),
        ("r", LogVar::RequestLine),
        ("HM", LogVar::Method),
        ("HP", LogVar::Path),
        ("HPO", LogVar::PathOnly),
        ("HQ", LogVar::Query),
        ("HU", LogVar::Uri),
        ("HV", LogVar::HttpVersion),
        ("ts", LogVar::TermState),
        ("tsc", LogVar::TermStateCookie),
        ("CC", LogVar::CookieReq),
        ("CS", LogVar::CookieRes),
        ("Th", LogVar::Th),
        ("Ti", LogVar::Ti),
        ("TR", LogVar::TR),
        ("Tq", LogVar::Tq),
        ("Tw", LogVar::Tw),
        ("Tc", LogVar::Tc),
        ("Tr", LogVar::Tr),
        ("Ta", LogVar::Ta),
        ("Tt", LogVar::Tt),
        ("Td", LogVar::Td),
        ("Tu", LogVar::Tu),
        ("t", LogVar::AcceptDate),
        ("T", LogVar::AcceptDateGmt),
        ("Tl", LogVar::AcceptDateLocal),
        ("Ts", LogVar::AcceptTimestamp),
        ("tr", LogVar::RequestDate),
        ("trg", LogVar::RequestDateGmt),
        ("trl", LogVar::RequestDateLocal),
        ("ms", LogVar::Ms),
        ("pid", LogVar::Pid),
        ("ac", LogVar::ActConn),
        ("fc", LogVar::FeConn),
        ("bc", LogVar::BeConn),
        ("sc", LogVar::SrvConn),
        ("rc", LogVar::Retries),
        ("sq", LogVar::SrvQueue),
        ("bq", LogVar::BackendQueue),
        ("hr", LogVar::CapturedRequestHeaders),
        ("hs", LogVar::CapturedResponseHeaders),
        ("hrl", LogVar::CapturedRequestHeadersClf),
        ("hsl", LogVar::CapturedResponseHeadersClf),
        ("H", LogVar::HostName),
        ("ID", LogVar::UniqueId),
        ("rt", LogVar::RequestCounter),
        ("lc", LogVar::LogCounter),
        ("sslc", LogVar::SslCipher),
        ("sslv", LogVar::SslVersion),
    ];

    /// Variables 2.6 refuses in a TCP-mode proxy's `log-format` ("reserved for HTTP mode").
    pub fn http_only(self) -> bool {
        use LogVar::*;
        matches!(
            self,
            Ti | Tq
                | TR
                | Tr
                | Ta
                | RequestLine
                | Method
                | Uri
                | Path
                | PathOnly
                | Query
                | HttpVersion
                | CookieReq
                | CookieRes
                | RequestDate
                | RequestDateGmt
                | RequestDateLocal
        )
    }

    pub fn from_alias(alias: &str) -> Option<LogVar> {
        Self::ALIASES
            .iter()
            .find(|(a, _)| *a == alias)
            .map(|(_, v)| *v)
    }

    pub fn alias(self) -> &'static str {
        Self::ALIASES
            .iter()
            .find(|(_, v)| *v == self)
            .map(|(a, _)| *a)
            .unwrap_or("?")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipnet_contains_v4_v6_and_mapped() {
        let n = IpNet {
            addr: "10.0.0.0".parse().unwrap(),
            prefix: 8,
        };
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.0.0.1".parse().unwrap()));
        assert!(n.contains("::ffff:10.9.9.9".parse().unwrap()));
        let n6 = IpNet {
            addr: "2001:db8::".parse().unwrap(),
            prefix: 32,
        };
        assert!(n6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!n6.contains("2001:db9::1".parse().unwrap()));
        let all = IpNet {
            addr: "0.0.0.0".parse().unwrap(),
            prefix: 0,
        };
        assert!(all.contains("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn net_patterns_longest_match() {
        let nets: Vec<IpNet> = [
            "10.0.0.0/8",
            "10.1.0.0/16",
            "::1/128",
            "2001:db8::/32",
            "0.0.0.0/0",
        ]
        .iter()
        .map(|t| {
            let (a, p) = t.split_once('/').unwrap();
            IpNet {
                addr: a.parse().unwrap(),
                prefix: p.parse().unwrap(),
            }
        })
        .collect();
        let n = NetPatterns::new(nets);
        assert_eq!(n.find("10.1.2.3".parse().unwrap()), Some(1));
        assert_eq!(n.find("10.2.2.3".parse().unwrap()), Some(0));
        assert_eq!(n.find("::ffff:10.1.0.1".parse().unwrap()), Some(1));
        assert_eq!(n.find("11.0.0.1".parse().unwrap()), Some(4));
        assert_eq!(n.find("::1".parse().unwrap()), Some(2));
        assert_eq!(n.find("2001:db8::7".parse().unwrap()), Some(3));
        assert_eq!(n.find("2001:db9::7".parse().unwrap()), None);
        let empty = NetPatterns::new(Vec::new());
        assert_eq!(empty.find("1.2.3.4".parse().unwrap()), None);
    }

    #[test]
    fn int_range_bounds_inclusive() {
        let r = IntRange {
            lo: Some(1),
            hi: Some(5),
        };
        assert!(r.contains(1) && r.contains(5) && !r.contains(6) && !r.contains(0));
        let open = IntRange { lo: None, hi: None };
        assert!(open.contains(i64::MIN));
    }

    #[test]
    fn str_patterns_lowered_and_hashed() {
        let pats: Vec<Vec<u8>> = (0..20).map(|i| format!("Host{i}").into_bytes()).collect();
        let p = StrPatterns::new(pats, true, true);
        assert_eq!(&*p.items[3], b"host3");
        assert!(p.set.is_some());
        assert_eq!(str_hash(b"HOST3", true), str_hash(b"host3", false));
    }
}
