"""Deterministic generator of benign traffic for the endpoint rule set.

Writes a classic pcap (Ethernet/IPv4/TCP, handshakes, MSS-sized segments of
several connections interleaved, FINs) of HTTP/1.1 keep-alive connections:
browsers loading pages, REST and SOAP clients, logins, uploads and downloads,
and the ordinary use of the products the rules protect (OWA, EWS, Citrix
Gateway, BIG-IP, FortiGate, GlobalProtect, Confluence, Jira, Jenkins,
WordPress, Solr, WinRM ...), with the near misses those rules are written
against: JSON in query strings, "${...}" templates in bodies, percent-encoded
"$" and "{", Basic/Bearer/Negotiate credentials, Forwarded headers, Range
headers, WebDAV, PUT uploads.  A few TLS connections on 443 and SMTP sessions
on 25 are mixed in, and WinRM clients on 5985 (some sending the
unauthenticated Identify request of Test-WSMan).  Responses carry HTML
(with JavaScript template literals), JSON, gzip, chunked and binary bodies.

Nothing in it is an exploit: a rule set that raises an event on it has a
false positive.  Same seed, same bytes (no clock, no hash randomisation).

Standard library only.  Usage:
    python3 benign_http.py OUT.pcap [--mb 210] [--seed 1]
    python3 benign_http.py --streams DIR [--mb 210] [--seed 1]
The second form writes the client and server byte streams instead, one file
per port and direction group ("NAME.PORT.to_server" / ".to_client"), for
`vpscan --stream` or `vpbench --profile BUNDLE --traffic DIR`.
"""
import base64
import gzip
import json
import os
import random
import struct
import sys

WORDS = ("account action address agenda alpha analysis annual answer archive area article "
         "asset audit author autumn backup balance banner basket batch billing blue board "
         "booking branch budget build bundle button cache calendar campaign capital card "
         "cart catalog category center chart check city client cloud cluster code coffee "
         "column comment company config contact content contract country coupon course "
         "credit customer dashboard data delivery delta demo deploy design detail device "
         "digest direct discount document domain draft driver east edition editor email "
         "energy engine entry event export factory feature feedback field file filter "
         "finance folder font forecast form forum frame garden gateway global green group "
         "guide health help history holiday home host hotel image import incident index "
         "invoice issue item journal kernel kitchen label lake language launch layer "
         "lead ledger level library license limit link list local location login logo "
         "manual map market media member menu message meter metric mobile model module "
         "monitor month music network news note notice office offer order origin output "
         "owner package page panel partner payment people period phone photo pipeline "
         "plan platform policy portal post price print product profile program project "
         "quarter query queue quote range rate record region release report request "
         "resource result review river role route rule sales sample schedule school "
         "screen search season section secure server service session setting share shop "
         "signal site size sketch source space sport staff stage status stock storage "
         "store story stream street studio style summary summer supply support survey "
         "system table target task team template tenant test theme ticket time title "
         "token tool topic total tower track trade travel trend update upload user value "
         "vendor version video view visit volume warehouse weather web week widget window "
         "winter work world year zone").split()
FIRST = "anna ben carla david emma felix gina hugo iris jonas kate leon mia nora oscar paula".split()
LAST = "schmidt meyer garcia rossi dubois novak jensen smith tanaka kowalski silva berg".split()
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)",
    "curl/8.5.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1",
    "Apache-HttpClient/4.5.14 (Java/17.0.10)", "Debian APT-HTTP/1.3 (2.6.1)",
)
LANGS = ("en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.8", "ja,en-US;q=0.7,en;q=0.3")


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        r = self.r
        w = self.w
        self.paragraphs = [" ".join(w() for _ in range(r.randrange(30, 140))).capitalize() + "."
                           for _ in range(600)]
        self.js = [
            "const %s = (%s) => `${%s.%s} - ${%s.length} %s`;\n" % (w(), w(), w(), w(), w(), w())
            for _ in range(80)] + [
            "fetch('/api/v1/%s?limit=%d').then(r => r.json()).then(d => render(d.%s));\n"
            % (w(), r.randrange(5, 100), w()) for _ in range(40)]
        self.pages = [self.make_page() for _ in range(120)]
        self.gz_pages = [gzip.compress(p, 6, mtime=0) for p in self.pages[:40]]
        self.css = [("/* %s */\n" % w() + "".join(
            ".%s-%s { margin: %dpx; color: #%06x; }\n" % (w(), w(), r.randrange(20), r.getrandbits(24))
            for _ in range(r.randrange(20, 150)))).encode() for _ in range(20)]

    # -- small pieces
    def w(self):
        return self.r.choice(WORDS)

    def name(self):
        return "%s.%s" % (self.r.choice(FIRST), self.r.choice(LAST))

    def hexs(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def b64(self, n):
        return base64.b64encode(self.r.randbytes(n)).decode()

    def text(self, n):
        out, size = [], 0
        while size < n:
            p = self.r.choice(self.paragraphs)
            out.append(p)
            size += len(p) + 1
        return "\n".join(out)

    def make_page(self):
        r, w = self.r, self.w
        parts = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s %s</title>\n"
                 % (w(), w()),
                 "<link rel=\"stylesheet\" href=\"/static/css/site.%s.css\">\n" % self.hexs(8),
                 "<script>\n%s</script></head><body>\n" % "".join(r.choice(self.js) for _ in range(r.randrange(2, 12)))]
        for _ in range(r.randrange(4, 28)):
            k = r.randrange(6)
            if k == 0:
                parts.append("<a href=\"/%s/%s?id=%d&amp;ref=%s\">%s</a>\n" % (w(), w(), r.randrange(99999), w(), w()))
            elif k == 1:
                parts.append("<img src=\"/images/%s.png\" alt=\"%s\" width=\"%d\">\n" % (self.hexs(12), w(), r.randrange(20, 800)))
            elif k == 2:
                parts.append("<script>%s</script>\n" % r.choice(self.js))
            else:
                parts.append("<p class=\"%s\">%s</p>\n" % (w(), r.choice(self.paragraphs)))
        parts.append("</body></html>\n")
        return "".join(parts).encode()

    def json_obj(self, depth=0):
        r, w = self.r, self.w
        d = {}
        for _ in range(r.randrange(2, 9)):
            k = r.randrange(7)
            if k == 0 and depth < 2:
                d[w()] = self.json_obj(depth + 1)
            elif k == 1:
                d[w() + "_id"] = r.randrange(10 ** 7)
            elif k == 2:
                d[w()] = [w() for _ in range(r.randrange(1, 6))]
            elif k == 3:
                d["price"] = r.randrange(100, 999999) / 100
            elif k == 4:
                d["email"] = "%s@%s.example" % (self.name(), w())
            else:
                d[w()] = "%s %s %s" % (w(), w(), w())
        return d

    # -- headers
    def common(self, host, agent=None, accept="*/*"):
        r = self.r
        h = "Host: %s\r\nUser-Agent: %s\r\nAccept: %s\r\nAccept-Language: %s\r\nAccept-Encoding: gzip, deflate, br\r\n" % (
            host, agent or r.choice(AGENTS), accept, r.choice(LANGS))
        k = r.randrange(10)
        if k < 4:
            h += "Cookie: session=%s; theme=%s; consent=%%7B%%22ads%%22%%3Afalse%%2C%%22stats%%22%%3Atrue%%7D\r\n" % (self.hexs(32), self.w())
        elif k < 5:
            jwt = "%s.%s.%s" % (base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').decode().rstrip("="),
                                base64.urlsafe_b64encode(json.dumps({"sub": self.name(), "iat": 1717000000 + r.randrange(10 ** 6)}).encode()).decode().rstrip("="),
                                self.b64(64).replace("+", "-").replace("/", "_").rstrip("="))
            h += "Authorization: Bearer %s\r\n" % jwt
        elif k < 6:
            cred = "%s:%s%s%d" % (self.name(), self.w().capitalize(), r.choice("!#$%&*+-.{}"), r.randrange(10 ** 4))
            h += "Authorization: Basic %s\r\n" % base64.b64encode(cred.encode()).decode()
        if r.random() < 0.3:
            h += "Referer: https://%s/%s/%s\r\n" % (host, self.w(), self.w())
        if r.random() < 0.15:
            ip = "198.51.100.%d" % r.randrange(1, 255)
            h += "X-Forwarded-For: %s, 10.%d.%d.%d\r\nForwarded: for=%s;proto=https;by=10.0.0.1\r\n" % (
                ip, r.randrange(256), r.randrange(256), r.randrange(1, 255), ip)
        if r.random() < 0.05:
            h += "Range: bytes=%d-%d\r\n" % (0, r.randrange(1000, 10 ** 6))
        return h

    def req(self, method, target, headers, body=b"", ctype=None, chunked=False, gz=False):
        if isinstance(body, str):
            body = body.encode()
        h = "%s %s HTTP/1.1\r\n%s" % (method, target, headers)
        if ctype:
            h += "Content-Type: %s\r\n" % ctype
        if gz and body:
            body = gzip.compress(body, 6, mtime=0)
            h += "Content-Encoding: gzip\r\n"
        if chunked and body:
            h += "Transfer-Encoding: chunked\r\n\r\n"
            out, i = [], 0
            while i < len(body):
                n = self.r.randrange(200, 5000)
                out.append(b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n")
                i += n
            return h.encode() + b"".join(out) + b"0\r\n\r\n"
        if body or method in ("POST", "PUT", "PATCH"):
            h += "Content-Length: %d\r\n" % len(body)
        return h.encode() + b"\r\n" + body

    def resp(self, kind=None):
        r = self.r
        date = "Date: %s, %02d Jun 2025 %02d:%02d:%02d GMT\r\n" % (
            r.choice(("Mon", "Tue", "Wed", "Thu", "Fri")), r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60))
        server = "Server: %s\r\n" % r.choice(("nginx/1.24.0", "Apache/2.4.58 (Unix)", "Microsoft-IIS/10.0", "Apache-Coyote/1.1", "envoy"))
        k = kind if kind is not None else r.randrange(14)
        if k >= 12:
            k = 0
        extra = ""
        if k == 0:
            return ("HTTP/1.1 304 Not Modified\r\n%s%sETag: \"%s\"\r\n\r\n" % (date, server, self.hexs(16))).encode()
        if k == 1:
            body = b"<html><body><h1>404 Not Found</h1></body></html>\n"
            return ("HTTP/1.1 404 Not Found\r\n%s%sContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % (date, server, len(body))).encode() + body
        if k in (2, 3, 4):
            body, ct = r.choice(self.pages), "text/html; charset=utf-8"
        elif k == 5:
            body, ct = r.choice(self.gz_pages), "text/html; charset=utf-8"
            extra = "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n"
        elif k in (6, 7):
            body, ct = json.dumps([self.json_obj() for _ in range(r.randrange(1, 12))]).encode(), "application/json"
        elif k == 8:
            body, ct = r.choice(self.css), "text/css"
        elif k == 9:
            body = json.dumps({"items": [self.json_obj() for _ in range(r.randrange(3, 25))]}).encode()
            head = "HTTP/1.1 200 OK\r\n%s%sContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % (date, server)
            out, i = [], 0
            while i < len(body):
                n = r.randrange(500, 8000)
                out.append(b"%x\r\n" % len(body[i:i + n]) + body[i:i + n] + b"\r\n")
                i += n
            return head.encode() + b"".join(out) + b"0\r\n\r\n"
        else:
            body = r.choice((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0\x00\x10JFIF", b"%PDF-1.7\n", b"PK\x03\x04")) + r.randbytes(r.randrange(300, 12000))
            ct = r.choice(("image/png", "image/jpeg", "application/pdf", "application/zip"))
        if r.random() < 0.2:
            extra += "Set-Cookie: sid=%s; Path=/; Secure; HttpOnly\r\n" % self.hexs(32)
        return ("HTTP/1.1 200 OK\r\n%s%sContent-Type: %s\r\nContent-Length: %d\r\n%sCache-Control: max-age=%d\r\n\r\n" % (
            date, server, ct, len(body), extra, r.randrange(86400))).encode() + body

    # -- request kinds: (weight, function(host) -> (request, response kind or None))
    def browse(self, host):
        r, w = self.r, self.w
        k = r.randrange(6)
        if k == 0:
            t = "/%s/%s/%s.html" % (w(), w(), w())
        elif k == 1:
            t = "/static/js/%s.%s.js" % (w(), self.hexs(8))
        elif k == 2:
            t = "/search?q=%s+%s&page=%d&sort=%s" % (w(), w(), r.randrange(1, 30), r.choice(("asc", "desc")))
        elif k == 3:
            t = "/products?filter=%%7B%%22category%%22%%3A%%22%s%%22%%2C%%22max%%22%%3A%d%%7D&price=%%24%d" % (w(), r.randrange(999), r.randrange(5, 500))
        elif k == 4:
            t = "/%s/?utm_source=%s&utm_medium=email&utm_campaign=%s_%d" % (w(), w(), w(), r.randrange(99))
        else:
            t = "/images/%s.png" % self.hexs(12)
        m = "HEAD" if r.random() < 0.05 else "GET"
        return self.req(m, t, self.common(host, accept="text/html,application/xhtml+xml,*/*;q=0.8")), None

    def api(self, host):
        r, w = self.r, self.w
        m = r.choice(("GET", "GET", "POST", "PUT", "PATCH", "DELETE"))
        t = "/api/v%d/%s/%d" % (r.randrange(1, 4), w(), r.randrange(10 ** 6))
        h = self.common(host, accept="application/json")
        if m in ("GET", "DELETE"):
            return self.req(m, t + "?fields=%s,%s&limit=%d" % (w(), w(), r.randrange(100)), h), 6
        obj = [self.json_obj() for _ in range(r.randrange(1, 10))]
        if r.random() < 0.1:
            obj.append({"template": "Dear ${firstName}, your order ${order.id} ships on ${date}",
                        "locale": "en", "vars": {"firstName": self.name()}})
        return self.req(m, t, h, json.dumps(obj), "application/json",
                        chunked=r.random() < 0.1, gz=r.random() < 0.05), 6

    def login(self, host):
        r = self.r
        forms = (
            ("/login", "username=%s&password=%s%%21%d&remember=on&redirect=%%2F%s" % (self.name(), self.w().capitalize(), r.randrange(999), self.w())),
            ("/wp-login.php", "log=%s&pwd=%s%%24%d&wp-submit=Log+In&redirect_to=https%%3A%%2F%%2F%s%%2Fwp-admin%%2F&testcookie=1" % (self.name(), self.w(), r.randrange(999), host)),
            ("/user/login", "name=%s&pass=%s&form_build_id=form-%s&form_id=user_login_form&op=Log+in" % (self.name(), self.w(), self.b64(24).replace("+", "-").replace("/", "_").rstrip("="))),
            ("/users/sign_in", "authenticity_token=%s&user%%5Blogin%%5D=%s&user%%5Bpassword%%5D=%s&user%%5Bremember_me%%5D=0" % (self.b64(32).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"), self.name(), self.w())),
            ("/session_login.cgi", "user=%s&pass=%s%d" % (self.name(), self.w(), r.randrange(99))),
            ("/console/j_security_check", "j_username=%s&j_password=%s&j_character_encoding=UTF-8" % (self.name(), self.w())),
            ("/mifs/j_spring_security_check", "j_username=%s&j_password=%s&logincontext=employee" % (self.name(), self.w())),
        )
        t, body = r.choice(forms)
        return self.req("POST", t, self.common(host), body, "application/x-www-form-urlencoded"), 2

    def upload(self, host):
        r, w = self.r, self.w
        b = "----WebKitFormBoundary%s" % self.hexs(16)
        if r.random() < 0.5:
            fname, data, ct = "%s-%s.txt" % (w(), w()), self.text(r.randrange(300, 12000)).encode(), "text/plain"
        else:
            fname = "%s_%d.%s" % (w(), r.randrange(999), r.choice(("pdf", "png", "docx", "xlsx", "zip")))
            data, ct = r.randbytes(r.randrange(2000, 40000)), "application/octet-stream"
        body = ("--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n%s %s\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (b, w(), w(), b, fname, ct)).encode() + data + ("\r\n--%s--\r\n" % b).encode()
        if r.random() < 0.2:
            return self.req("PUT", "/webdav/%s/%s" % (w(), fname), self.common(host), data, ct), 6
        return self.req("POST", "/upload/%s" % w(), self.common(host), body, "multipart/form-data; boundary=%s" % b), 6

    def soap(self, host):
        r, w = self.r, self.w
        body = ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
                "<soap:Body><Get%s xmlns=\"urn:%s:%s\"><id>%d</id><name>%s</name><note>%s</note></Get%s></soap:Body></soap:Envelope>\n"
                % (w().capitalize(), w(), w(), r.randrange(10 ** 6), self.name(), r.choice(self.paragraphs), "X"))
        return self.req("POST", "/ws/%sService" % w().capitalize(), self.common(host) + "SOAPAction: \"urn:%s\"\r\n" % w(),
                        body, "text/xml; charset=utf-8"), 6

    def product(self, host):
        """Ordinary use of the software the rules protect."""
        r, w, n = self.r, self.w, self.name()
        c = self.common(host)
        choices = [
            lambda: self.req("GET", "/owa/auth/logon.aspx?replaceCurrent=1&url=https%%3a%%2f%%2f%s%%2fowa%%2f" % host, c),
            lambda: self.req("POST", "/owa/auth.owa", c, "destination=https%%3A%%2F%%2F%s%%2Fowa%%2F&flags=4&forcedownlevel=0&username=CORP%%5C%s&password=%s&passwordText=&isUtf8=1" % (host, n, w()), "application/x-www-form-urlencoded"),
            lambda: self.req("GET", "/autodiscover/autodiscover.json/v1.0/%s@corp.example?Protocol=Autodiscoverv1" % n, c),
            lambda: self.req("POST", "/autodiscover/autodiscover.xml", c, "<?xml version=\"1.0\"?><Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request><EMailAddress>%s@corp.example</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>" % n, "text/xml"),
            lambda: self.req("POST", "/EWS/Exchange.asmx", c, "<?xml version=\"1.0\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\"><soap:Body><FindItem Traversal=\"Shallow\" xmlns=\"http://schemas.microsoft.com/exchange/services/2006/messages\"><ItemShape><t:BaseShape>IdOnly</t:BaseShape></ItemShape><ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/></ParentFolderIds></FindItem></soap:Body></soap:Envelope>", "text/xml; charset=utf-8"),
            lambda: self.req("POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&User=%s&DeviceId=%s&DeviceType=iPhone" % (n, self.hexs(32).upper()), c, r.randbytes(r.randrange(50, 600)), "application/vnd.ms-sync.wbxml"),
            lambda: self.req("GET", "/ecp/?ExchClientVer=15.2", c),
            lambda: self.req("GET", "/vpn/index.html", c),
            lambda: self.req("GET", "/logon/LogonPoint/tmindex.html", c),
            lambda: self.req("POST", "/cgi/login", c, "login=%s&passwd=%s&savecredentials=false&nsg-x1-logon-button=Log+On&StateContext=%s" % (n, w(), self.b64(30).replace("=", "%3D")), "application/x-www-form-urlencoded"),
            lambda: self.req("GET", "/tmui/login.jsp", c),
            lambda: self.req("POST", "/mgmt/shared/authn/login", c + "Connection: keep-alive\r\n", json.dumps({"username": n, "password": w(), "loginProviderName": "tmos"}), "application/json"),
            lambda: self.req("GET", "/mgmt/tm/sys/version", c + "X-F5-Auth-Token: %s\r\nConnection: keep-alive\r\n" % self.hexs(26).upper()),
            lambda: self.req("GET", "/remote/login?lang=en", c),
            lambda: self.req("POST", "/remote/logincheck", c, "ajax=1&username=%s&realm=&credential=%s" % (n, w()), "text/plain;charset=UTF-8"),
            lambda: self.req("GET", "/api/v2/monitor/system/status", c),
            lambda: self.req("GET", "/dana-na/auth/url_default/welcome.cgi", c),
            lambda: self.req("POST", "/global-protect/login.esp", c + "Cookie: SESSID=%s\r\n" % self.hexs(32), "prot=https%%3A&server=%s&inputStr=&action=getsoftware&user=%s&passwd=%s&ok=Log+In" % (host, n, w()), "application/x-www-form-urlencoded"),
            lambda: self.req("GET", "/pages/viewpage.action?pageId=%d" % r.randrange(10 ** 7), c),
            lambda: self.req("GET", "/rest/api/content/search?cql=space%%3D%s%%20and%%20type%%3Dpage&limit=25" % w().upper(), c),
            lambda: self.req("POST", "/pages/doeditpage.action?pageId=%d" % r.randrange(10 ** 7), c, "atl_token=%s&title=%s+%s&wysiwygContent=%%3Cp%%3E%s%%3C%%2Fp%%3E&confirm=Save" % (self.hexs(40), w(), w(), w()), "application/x-www-form-urlencoded"),
            lambda: self.req("GET", "/rest/api/2/search?jql=project%%20%%3D%%20%s%%20AND%%20status%%20%%3D%%20Open&maxResults=50" % w().upper(), c),
            lambda: self.req("GET", "/secure/Dashboard.jspa", c),
            lambda: self.req("GET", "/job/%s-%s/lastBuild/api/json?tree=result,timestamp" % (w(), w()), c),
            lambda: self.req("POST", "/job/%s/build?delay=0sec" % w(), c + "Jenkins-Crumb: %s\r\n" % self.hexs(64), ""),
            lambda: self.req("GET", "/api/v4/projects?per_page=20&page=%d&order_by=last_activity_at" % r.randrange(1, 9), c),
            lambda: self.req("GET", "/api/dashboards/uid/%s" % self.hexs(9), c),
            lambda: self.req("GET", "/public/plugins/grafana-clock-panel/module.js", c),
            lambda: self.req("GET", "/solr/admin/cores?action=STATUS&core=%s&wt=json" % w(), c),
            lambda: self.req("GET", "/solr/%s/select?q=name%%3A%s&rows=20&wt=json" % (w(), w()), c),
            lambda: self.req("GET", "/actuator/health", c),
            lambda: self.req("GET", "/wp-json/wp/v2/posts?per_page=10&page=%d" % r.randrange(1, 5), c),
            lambda: self.req("POST", "/wp-admin/admin-ajax.php", c, "data%%5Bwp-refresh-post-lock%%5D%%5Bpost_id%%5D=%d&interval=60&_nonce=%s&action=heartbeat&screen_id=post&has_focus=true" % (r.randrange(9999), self.hexs(10)), "application/x-www-form-urlencoded; charset=UTF-8"),
            lambda: self.req("GET", "/index.php?option=com_content&view=article&id=%d&Itemid=%d" % (r.randrange(999), r.randrange(99)), c),
            lambda: self.req("GET", "/phpmyadmin/index.php?route=/sql&db=%s&table=%s&pos=0" % (w(), w()), c),
            lambda: self.req("GET", "/portal/info.jsp", c),
            lambda: self.req("GET", "/websso/SAML2/SSO/vsphere.local?SAMLRequest=%s" % self.b64(120).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"), c),
            lambda: self.req("POST", "/api/login", c, json.dumps({"username": n, "password": w(), "remember": True, "strict": True}), "application/json"),
            lambda: self.req("PROPFIND", "/remote.php/dav/files/%s/" % n, c + "Depth: 1\r\nIf: <https://%s/remote.php/dav/files/%s/notes.txt> (<opaquelocktoken:%s>)\r\n" % (host, n, self.hexs(32)), "<?xml version=\"1.0\"?><d:propfind xmlns:d=\"DAV:\"><d:prop><d:getlastmodified/></d:prop></d:propfind>", "application/xml"),
            lambda: self.req("GET", "/index.php?s=/index/%s/%s" % (w(), w()), c),
            lambda: self.req("GET", "/cgi-bin/luci/admin/status/overview", c),
            lambda: self.req("GET", "/_layouts/15/start.aspx", c),
            lambda: self.req("GET", "/_api/web/lists/getbytitle('%s')/items?$top=50&$select=Title,Modified" % w().capitalize(), c + "Accept: application/json;odata=verbose\r\n"),
            lambda: self.req("GET", "/nexus/service/rest/v1/components?repository=maven-releases", c),
            lambda: self.req("GET", "/app/rest/builds?locator=buildType:%s,count:10" % w(), c),
        ]
        return r.choice(choices)(), None

    def wsman(self, host):
        r = self.r
        body = ("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\">"
                "<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>") if r.random() < 0.5 else (
                "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" xmlns:w=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">"
                "<s:Header><a:To>http://%s:5985/wsman</a:To><w:ResourceURI s:mustUnderstand=\"true\">http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service</w:ResourceURI>"
                "<a:Action s:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action><a:MessageID>uuid:%s</a:MessageID></s:Header>"
                "<s:Body><n:Enumerate xmlns:n=\"http://schemas.xmlsoap.org/ws/2004/09/enumeration\"/></s:Body></s:Envelope>" % (host, self.hexs(32)))
        if r.random() < 0.2:
            # Test-WSMan: an Identify request without authentication.
            body = ("<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsmid=\"http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd\">"
                    "<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>")
            h = "Host: %s:5985\r\nUser-Agent: Microsoft WinRM Client\r\nConnection: Keep-Alive\r\n" % host
        else:
            h = "Host: %s:5985\r\nUser-Agent: Microsoft WinRM Client\r\nAuthorization: Negotiate %s\r\nConnection: Keep-Alive\r\n" % (host, self.b64(r.randrange(60, 1400)))
        return self.req("POST", "/wsman", h, body, "application/soap+xml;charset=UTF-8"), 6


KINDS = ("browse", 30), ("api", 22), ("login", 6), ("upload", 5), ("soap", 5), ("product", 32)


class Pcap:
    """Minimal pcap writer; flows are interleaved by the caller."""
    def __init__(self, f):
        self.f = f
        self.ts = 1717200000 * 1000000
        self.packets = 0
        self.payload = 0
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))

    def packet(self, cli, srv, cport, sport, from_client, seq, ack, flags, data=b""):
        src, dst = (cli, srv) if from_client else (srv, cli)
        sp, dp = (cport, sport) if from_client else (sport, cport)
        total = 40 + len(data)
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total, self.packets & 0xffff, 0x4000, 64, 6, 0, src, dst)
        s = sum(struct.unpack(">10H", ip))
        s = (s & 0xffff) + (s >> 16)
        s = (s & 0xffff) + (s >> 16)
        ip = ip[:10] + struct.pack(">H", ~s & 0xffff) + ip[12:]
        tcp = struct.pack(">HHIIBBHHH", sp, dp, seq & 0xffffffff, ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
        eth = (b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" if from_client else
               b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02") + b"\x08\x00"
        frame = eth + ip + tcp + data
        self.f.write(struct.pack("<IIII", self.ts // 1000000, self.ts % 1000000, len(frame), len(frame)))
        self.f.write(frame)
        self.ts += 37
        self.packets += 1
        self.payload += len(data)


MSS = 1448


def flow_packets(flow):
    """Yields (from_client, data, flags) for one connection, request/response in turn."""
    for req, resp in flow["pairs"]:
        for i in range(0, len(req), MSS):
            yield 1, req[i:i + MSS]
        for i in range(0, len(resp), MSS):
            yield 0, resp[i:i + MSS]


def tls_flow(g):
    r = g.r
    hello = b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" + r.randbytes(32) + b"\x20" + r.randbytes(32) + b"\x00\x08\x13\x01\x13\x02\x13\x03\xc0\x2f\x01\x00" + r.randbytes(133)
    srv = b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03" + r.randbytes(87) + b"\x14\x03\x03\x00\x01\x01"
    pairs = [(hello, srv)]
    for _ in range(r.randrange(1, 8)):
        a = r.randrange(100, 3000)
        b = r.randrange(200, 40000)
        pairs.append((b"\x17\x03\x03" + struct.pack(">H", a) + r.randbytes(a), b"\x17\x03\x03" + struct.pack(">H", min(b, 16384)) + r.randbytes(b)))
    return pairs


def smtp_flow(g):
    r, w = g.r, g.w
    frm, to = g.name(), g.name()
    body = ("From: %s <%s@partner.example>\r\nTo: %s@corp.example\r\nSubject: %s %s ${total} report\r\n"
            "Date: Mon, 03 Jun 2025 10:%02d:00 +0000\r\nMessage-ID: <%s@partner.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n.\r\n") % (
        frm, frm, to, w(), w(), r.randrange(60), g.hexs(24), g.text(r.randrange(300, 20000)).replace("\n.", "\n.."))
    return [
        (b"", b"220 mx.corp.example ESMTP Postfix\r\n"),
        (b"EHLO mail.partner.example\r\n", b"250-mx.corp.example\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250 8BITMIME\r\n"),
        (("MAIL FROM:<%s@partner.example> SIZE=%d\r\n" % (frm, len(body))).encode(), b"250 2.1.0 Ok\r\n"),
        (("RCPT TO:<%s@corp.example>\r\n" % to).encode(), b"250 2.1.5 Ok\r\n"),
        (b"DATA\r\n", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
        (body.encode(), b"250 2.0.0 Ok: queued as 4Vx1Y2\r\n"),
        (b"QUIT\r\n", b"221 2.0.0 Bye\r\n"),
    ]


def generate(out, mb=210, seed=1, streams_dir=None):
    """Writes about `mb` MB of TCP payload.  Returns a dict of counts."""
    g = Gen(seed)
    r = g.r
    # Packet-level choices (sequence numbers, interleaving) draw from their
    # own generator, so that the pcap and the stream files carry the same
    # connections.
    pr = random.Random(seed + 7919)
    target = mb * 1000 * 1000
    kinds = [k for k, n in KINDS for _ in range(n)]
    hosts = ["%s.corp.example" % w for w in ("www", "shop", "mail", "portal", "wiki", "jira", "ci", "git", "vpn", "api", "files", "grafana")]
    stats = {"flows": 0, "requests": 0, "bytes": 0, "tls_flows": 0, "smtp_flows": 0, "wsman_flows": 0}
    pc = Pcap(out) if out is not None else None
    streams = {}
    fid = 0
    while stats["bytes"] < target:
        batch = []
        for _ in range(24):
            fid += 1
            x = r.random()
            if x < 0.03:
                port, pairs = 443, tls_flow(g)
                stats["tls_flows"] += 1
            elif x < 0.045:
                port, pairs = 25, smtp_flow(g)
                stats["smtp_flows"] += 1
            else:
                port = r.choice((80, 80, 80, 8080, 8000, 8443, 5985)) if x > 0.07 else 5985
                host = r.choice(hosts)
                pairs = []
                for _ in range(r.randrange(1, 60)):
                    if port == 5985:
                        req, rk = g.wsman(host)
                    else:
                        req, rk = getattr(g, r.choice(kinds))(host)
                    pairs.append((req, g.resp(rk)))
                    stats["requests"] += 1
                if port == 5985:
                    stats["wsman_flows"] += 1
            cli = bytes((10, 20, (fid >> 8) & 0xff, fid & 0xff or 1))
            srv = bytes((192, 0, 2, 1 + fid % 200))
            batch.append({"cli": cli, "srv": srv, "cport": 20000 + fid % 40000, "sport": port, "pairs": pairs})
            stats["flows"] += 1
            stats["bytes"] += sum(len(a) + len(b) for a, b in pairs)
        if streams_dir is not None:
            for fl in batch:
                grp = fl["cport"] % 8
                for d, idx in (("to_server", 0), ("to_client", 1)):
                    key = "g%d.%d.%s" % (grp, fl["sport"], d)
                    streams.setdefault(key, []).extend(p[idx] for p in fl["pairs"])
            continue
        # Handshakes, then the segments of the batch round-robin, then FINs.
        for fl in batch:
            fl["cseq"], fl["sseq"] = 1000 + pr.getrandbits(20), 500000 + pr.getrandbits(20)
            a = (fl["cli"], fl["srv"], fl["cport"], fl["sport"])
            pc.packet(*a, 1, fl["cseq"], 0, 0x02)
            pc.packet(*a, 0, fl["sseq"], fl["cseq"] + 1, 0x12)
            pc.packet(*a, 1, fl["cseq"] + 1, fl["sseq"] + 1, 0x10)
            fl["cseq"] += 1
            fl["sseq"] += 1
            fl["it"] = flow_packets(fl)
        live = list(batch)
        while live:
            nxt = []
            for fl in live:
                for _ in range(pr.randrange(1, 4)):
                    seg = next(fl["it"], None)
                    if seg is None:
                        break
                    fc, data = seg
                    if not data:
                        continue
                    a = (fl["cli"], fl["srv"], fl["cport"], fl["sport"])
                    if fc:
                        pc.packet(*a, 1, fl["cseq"], fl["sseq"], 0x18, data)
                        fl["cseq"] += len(data)
                    else:
                        pc.packet(*a, 0, fl["sseq"], fl["cseq"], 0x18, data)
                        fl["sseq"] += len(data)
                else:
                    nxt.append(fl)
            live = nxt
        for fl in batch:
            a = (fl["cli"], fl["srv"], fl["cport"], fl["sport"])
            pc.packet(*a, 1, fl["cseq"], fl["sseq"], 0x11)
            pc.packet(*a, 0, fl["sseq"], fl["cseq"] + 1, 0x11)
            pc.packet(*a, 1, fl["cseq"] + 1, fl["sseq"] + 1, 0x10)
    if streams_dir is not None:
        os.makedirs(streams_dir, exist_ok=True)
        for key in sorted(streams):
            with open(os.path.join(streams_dir, key), "wb") as f:
                f.write(b"".join(streams[key]))
        stats["files"] = len(streams)
    else:
        stats["packets"] = pc.packets
    return stats


def main(argv):
    mb, seed, streams, path = 210, 1, None, None
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--mb", "--seed", "--streams") and i + 1 < len(argv):
            if a == "--mb":
                mb = int(argv[i + 1])
            elif a == "--seed":
                seed = int(argv[i + 1])
            else:
                streams = argv[i + 1]
            i += 2
        elif not a.startswith("-") and path is None:
            path = a
            i += 1
        else:
            sys.stderr.write(__doc__)
            return 2
    if (path is None) == (streams is None):
        sys.stderr.write(__doc__)
        return 2
    if streams is not None:
        st = generate(None, mb, seed, streams)
    else:
        with open(path, "wb") as f:
            st = generate(f, mb, seed)
    print(json.dumps(st))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
