import Foundation
import HTTPTypes
import Hummingbird
import MultiProdigyCore
import MultiProdigyJSON
import NIOCore

/// `/ui`: the dashboard's pages, login and logout, served from assets compiled into the binary.
///
/// The master key logs in through a form (`POST /ui/login`, guarded by a double-submit token), which opens a
/// session (``DashboardSessions``) held in an `HttpOnly`, `SameSite=Strict` cookie scoped to `/ui`. Every page
/// is sent with a strict Content-Security-Policy (scripts and styles from `/ui` only, no framing). A gateway
/// without a master key has no dashboard: there would be no one to log in as.
struct DashboardHandler: Sendable {
    /// The session cookie.
    static let sessionCookie = "mp_session"
    /// The login form's double-submit cookie.
    static let loginCookie = "mp_login"
    /// The largest login or logout form read.
    static let maximumFormBytes = 16 * 1024
    /// How long a wrong key waits before its answer, to slow guessing.
    static let failedLoginDelay = Duration.milliseconds(500)

    let sessions: DashboardSessions
    let masterKey: [UInt8]?

    // MARK: Pages

    /// `GET /ui`: the dashboard for a session, else a redirect to the login page.
    func app(_ request: Request) -> Response {
        guard masterKey != nil else { return Self.noDashboard() }
        guard let session = session(of: request) else { return Self.redirect(to: "/ui/login") }
        let page = Self.text(PackageResources.app_html).replacingOccurrences(of: "{{CSRF}}", with: session.csrfToken)
        return Self.page(page)
    }

    /// `GET /ui/login`: the login form, with a fresh double-submit token in the form and in a cookie.
    func loginPage(_ request: Request) -> Response {
        guard masterKey != nil else { return Self.noDashboard() }
        if session(of: request) != nil { return Self.redirect(to: "/ui/") }
        return loginForm(message: "", status: .ok)
    }

    /// `POST /ui/login`: the master key opens a session; anything else gets the form again with a 401 (403 for a
    /// form that did not come from the login page).
    func login(_ request: Request) async throws -> Response {
        guard let masterKey else { return Self.noDashboard() }
        guard Self.isSameOrigin(request) else {
            return loginForm(message: "This form must be sent from the gateway's own page.", status: .forbidden)
        }
        var request = request
        let form = try await Self.form(&request)
        let cookie = request.cookies[Self.loginCookie]?.value ?? ""
        guard let token = form["csrf"], !cookie.isEmpty, ConstantTime.equals(Array(token.utf8), Array(cookie.utf8)) else {
            return loginForm(message: "The login form expired; please try again.", status: .forbidden)
        }
        guard let key = form["key"], ConstantTime.equals(Array(key.utf8), masterKey) else {
            try await Task.sleep(for: Self.failedLoginDelay)
            return loginForm(message: "That is not the gateway's master key.", status: .unauthorized)
        }
        let opened = sessions.open(masterKey: masterKey)
        var response = Self.redirect(to: "/ui/")
        response.setCookie(
            Cookie(
                name: Self.sessionCookie,
                value: opened.token,
                maxAge: Int(DashboardSessions.lifetime.components.seconds),
                path: "/ui",
                httpOnly: true,
                sameSite: .strict
            )
        )
        response.setCookie(Self.expired(Self.loginCookie))
        return response
    }

    /// `POST /ui/logout`: ends the session (the form carries its CSRF token) and goes back to the login page.
    func logout(_ request: Request) async throws -> Response {
        var request = request
        let form = try await Self.form(&request)
        if let token = request.cookies[Self.sessionCookie]?.value, let masterKey,
            let session = sessions.session(token, masterKey: masterKey)
        {
            let presented = form["csrf"] ?? request.headers[.csrfToken] ?? ""
            guard ConstantTime.equals(Array(presented.utf8), Array(session.csrfToken.utf8)) else {
                return Self.page(Self.plainPage("The logout form expired; reload the dashboard and try again."), status: .forbidden)
            }
            sessions.close(token)
        }
        var response = Self.redirect(to: "/ui/login")
        response.setCookie(Self.expired(Self.sessionCookie))
        return response
    }

    /// `GET /ui/app.js` and `/ui/app.css`.
    static func asset(_ bytes: [UInt8], contentType: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = contentType
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Sessions

    /// The live session the request's cookie names.
    func session(of request: Request) -> DashboardSessions.Session? {
        guard let masterKey, let token = request.cookies[Self.sessionCookie]?.value, !token.isEmpty else { return nil }
        return sessions.session(token, masterKey: masterKey)
    }

    /// A request that changes something came from the dashboard itself: its `Origin`, when sent, is this host.
    static func isSameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    // MARK: Building answers

    /// What every /ui answer carries: no framing, no inline scripts or styles, no referrer, no caching.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        .xFrameOptions: "DENY",
        .referrerPolicy: "no-referrer",
        .xContentTypeOptions: "nosniff",
        .cacheControl: "no-store",
    ]

    private func loginForm(message: String, status: HTTPResponse.Status) -> Response {
        let token = DashboardSessions.randomToken()
        let page = Self.text(PackageResources.login_html)
            .replacingOccurrences(of: "{{LOGIN_CSRF}}", with: token)
            .replacingOccurrences(of: "{{MESSAGE}}", with: Self.escapeHTML(message))
        var response = Self.page(page, status: status)
        response.setCookie(Cookie(name: Self.loginCookie, value: token, maxAge: 3600, path: "/ui", httpOnly: true, sameSite: .strict))
        return response
    }

    static func page(_ html: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(to location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    private static func noDashboard() -> Response {
        page(
            plainPage(
                "The dashboard needs a master key to log in with: set auth.master_key (or MULTIPRODIGY_MASTER_KEY) and restart the gateway."
            ),
            status: .notFound
        )
    }

    private static func plainPage(_ message: String) -> String {
        """
        <!doctype html><html lang="en"><head><meta charset="utf-8"><title>MultiProdigy Gateway</title>\
        <link rel="stylesheet" href="/ui/app.css"></head><body><main class="notice"><h1>MultiProdigy Gateway</h1>\
        <p>\(escapeHTML(message))</p></main></body></html>
        """
    }

    private static func expired(_ name: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/ui", httpOnly: true, sameSite: .strict)
    }

    private static func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// `text` safe inside HTML text and attribute values.
    static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// The fields of a form body (`application/x-www-form-urlencoded`), at most ``maximumFormBytes``.
    static func form(_ request: inout Request) async throws -> [String: String] {
        let body = try await RequestBodyReader.collect(&request, limit: maximumFormBytes)
        return formFields(String(buffer: body))
    }

    /// The fields of `text`, URL-encoded as a form sends them; a field given twice keeps its first value.
    static func formFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String? {
                part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = decode(parts[0]), fields[name] == nil else { continue }
            fields[name] = parts.count > 1 ? decode(parts[1]) ?? "" : ""
        }
        return fields
    }
}

extension HTTPField.Name {
    /// The dashboard's CSRF token on API calls that change something.
    static let csrfToken = HTTPField.Name("x-csrf-token")!
    /// Whether a page may be framed.
    static let xFrameOptions = HTTPField.Name("x-frame-options")!
    /// What a page sends as its referrer.
    static let referrerPolicy = HTTPField.Name("referrer-policy")!
}
