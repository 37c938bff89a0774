//! Samples and conditions: fetches (`path`, `hdr(host)`, `src`…), converters (`lower`,
//! `regsub`…), ACLs with their compiled patterns, `if`/`unless` conditions, and log-format
//! expressions (`%[src]`, `%ci`…). Everything is compiled at load time; the engines only
//! evaluate.

use std::net::IpAddr;

use crate::span::Span;

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `::1/128`; a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

/// A sample fetch with its arguments.
#[derive(Clone, Debug, PartialEq)]
pub enum Fetch {
    Path,
    Url,
    Base,
    Query,
    Method,
    Src,
    SrcPort,
    Dst,
    DstPort,
    /// `hdr(name[,occ])` / `req.hdr`.
    ReqHdr {
        name: String,
        occ: Option<i32>,
    },
    ReqHdrCnt {
        name: String,
    },
    /// `req.cook(name)` / `cook(name)`.
    ReqCook {
        name: String,
    },
    UrlParam {
        name: String,
    },
    ResHdr {
        name: String,
        occ: Option<i32>,
    },
    Status,
    ReqSslSni,
    ReqSslHelloType,
    ReqLen,
    NbSrv {
        backend: String,
    },
    SrvIsUp {
        backend: String,
        server: String,
    },
    HttpAuth {
        userlist: String,
    },
    HttpAuthGroup {
        userlist: String,
    },
    /// `var(txn.name)` and friends.
    Var {
        name: String,
    },
    /// Constant fetches: `always_true`, `always_false`, `int(N)`, `str(S)`.
    Bool(bool),
    Int(i64),
    Str(String),
}

/// A converter applied after a fetch (`,lower`, `,regsub(a,b)`…).
#[derive(Clone, Debug)]
pub enum Converter {
    Lower,
    Upper,
    Base64,
    Hex,
    Length,
    Field {
        index: i32,
        delims: String,
        count: Option<i32>,
    },
    Word {
        index: i32,
        delims: String,
        count: Option<i32>,
    },
    Regsub {
        re: regex::Regex,
        replacement: String,
        global: bool,
    },
    Other {
        name: String,
        args: Vec<String>,
    },
}

/// A fetch followed by its converters.
#[derive(Clone, Debug)]
pub struct SampleExpr {
    pub fetch: Fetch,
    pub converters: Vec<Converter>,
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
}

/// Compiled patterns of one ACL term.
#[derive(Clone, Debug)]
pub enum Patterns {
    None,
    Strings(Vec<String>),
    Regexes(Vec<regex::Regex>),
    Ints(Vec<IntRange>),
    Nets(Vec<IpNet>),
}

/// An integer pattern: `N`, `lt N`, `le N`, `gt N`, `ge N`, `eq N`, `A:B`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IntRange {
    pub lo: Option<i64>,
    pub hi: Option<i64>,
}

/// One ACL declaration line (or an anonymous `{ ... }` ACL).
#[derive(Clone, Debug)]
pub struct AclTerm {
    pub sample: SampleExpr,
    pub method: MatchMethod,
    pub ignore_case: bool,
    pub patterns: Patterns,
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
    ReqSslVer,
    WaitEnd,
}

/// `[!]acl` in a condition.
#[derive(Clone, Debug)]
pub struct CondTerm {
    pub negated: bool,
    pub acl: AclRef,
}

/// `if|unless` followed by terms: OR of ANDs.
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

#[derive(Clone, Debug)]
pub enum LogFormatPart {
    Literal(String),
    /// `%[expr]`.
    Sample(SampleExpr),
    /// `%ci`, `%ST`, `%Tr`… by their HAProxy alias.
    Var(LogVar),
}

/// The `%` log variables HAProxy defines (a subset grows with the engines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogVar {
    ClientIp,
    ClientPort,
    FrontendIp,
    FrontendPort,
    FrontendName,
    FrontendNameTransport,
    BackendName,
    ServerName,
    ServerIp,
    ServerPort,
    StatusCode,
    BytesRead,
    BytesUploaded,
    RequestLine,
    Method,
    Path,
    Query,
    Uri,
    HttpVersion,
    TermState,
    TermStateCookie,
    Tq,
    Tw,
    Tc,
    Tr,
    Ta,
    Tt,
    Th,
    Ti,
    Td,
    AcceptDate,
    RequestDate,
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
    HostName,
    UniqueId,
}
