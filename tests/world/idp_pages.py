"""HTML pages of the test world's identity provider: sign-in, consent, error, form_post.

Plain, presentable pages a real browser (Qt WebEngine) and a plain HTTP client can both use.
Stable element ids for tests: sign-in ``#username`` ``#password`` ``#submit`` (and ``#error``
when the last try failed); consent ``#accept`` ``#cancel``; error page ``#error-code``.
"""

from __future__ import annotations

from html import escape

from tests.world.idp_model import AadError, AuthRequest, full_scope

_STYLE = """
body{margin:0;font-family:"Segoe UI","DejaVu Sans",Arial,sans-serif;background:#eef1f5;
color:#1b1b1b}
main{max-width:440px;margin:64px auto;background:#fff;padding:40px 44px;
box-shadow:0 2px 6px rgba(0,0,0,.2)}
.brand{font-weight:600;color:#5e5e5e;letter-spacing:.02em;margin-bottom:16px}
h1{font-size:24px;font-weight:600;margin:0 0 16px}
p{font-size:15px;line-height:1.4}
label{display:block;font-size:13px;color:#555;margin-top:14px}
input[type=email],input[type=password],input[type=text]{font-family:inherit;width:100%;
box-sizing:border-box;font-size:15px;
padding:8px 2px;border:0;border-bottom:1px solid #666;outline:none}
input:focus{border-bottom:2px solid #0067b8}
.buttons{margin-top:28px;text-align:right}
button{font-family:inherit;font-size:15px;padding:6px 24px;margin-left:8px;border:0;
cursor:pointer;min-width:108px}
button.primary{background:#0067b8;color:#fff}
button.secondary{background:#ccc;color:#1b1b1b}
#error{color:#e81123;font-size:14px;margin:8px 0}
ul{padding-left:20px} li{margin:6px 0}
.small{font-size:12px;color:#666;word-break:break-all}
"""

# Human words for the permissions the wizard asks for (shown on the consent page).
_PERMISSIONS = {
    "imap.accessasuser.all": "Read and write access to your mailboxes (IMAP)",
    "pop.accessasuser.all": "Read your mail (POP)",
    "smtp.send": "Send email as you (SMTP)",
    "ews.accessasuser.all": "Access your mailboxes (Exchange Web Services)",
    "mail.read": "Read your mail",
    "mail.send": "Send mail as you",
    "user.read": "Sign you in and read your profile",
    "calendars.readwrite": "Have full access to your calendars",
    "contacts.readwrite": "Have full access to your contacts",
    "offline_access": "Maintain access to data you have given it access to",
    "openid": "Sign you in",
    "profile": "View your basic profile",
    "email": "View your email address",
}


def _page(title: str, body: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f'<body><main><div class="brand">Contoso test sign-in</div>{body}</main></body></html>'
    ).encode()


def permission_text(scope: str) -> str:
    name = scope.rsplit("/", 1)[-1].lower()
    return _PERMISSIONS.get(name, full_scope(scope))


def sign_in_page(
    request: AuthRequest, action: str, client_name: str, message: str | None = None
) -> bytes:
    error = f'<div id="error" role="alert">{escape(message)}</div>' if message else ""
    body = f"""
<h1>Sign in</h1>
<p>to continue to {escape(client_name)}</p>
{error}
<form id="signin" method="post" action="{escape(action)}">
<input type="hidden" name="ctx" value="{escape(request.ctx)}">
<label for="username">Email, phone, or Skype</label>
<input id="username" name="login" type="email" autocomplete="username" required
 value="{escape(request.login_hint)}">
<label for="password">Password</label>
<input id="password" name="passwd" type="password" autocomplete="current-password">
<div class="buttons"><button id="submit" class="primary" type="submit">Sign in</button></div>
</form>"""
    return _page("Sign in to your account", body)


def consent_page(request: AuthRequest, action: str, client_name: str, upn: str) -> bytes:
    items = "".join(
        f"<li>{escape(permission_text(s))}</li>"
        for s in dict.fromkeys((*request.scopes, "openid", "offline_access"))
    )
    body = f"""
<h1>Permissions requested</h1>
<p class="small">{escape(upn)}</p>
<p><strong>{escape(client_name)}</strong> would like to:</p>
<ul id="permissions">{items}</ul>
<p class="small">Accepting these permissions means that you allow this app to use your data as
specified in its terms of service and privacy statement.</p>
<form id="consent" method="post" action="{escape(action)}">
<input type="hidden" name="ctx" value="{escape(request.ctx)}">
<div class="buttons">
<button id="cancel" class="secondary" type="submit" name="action" value="cancel">Cancel</button>
<button id="accept" class="primary" type="submit" name="action" value="accept">Accept</button>
</div></form>"""
    return _page("Permissions requested", body)


def error_page(error: AadError) -> bytes:
    body = f"""
<h1>Sorry, but we're having trouble signing you in.</h1>
<p id="error-code">AADSTS{error.code}: {escape(error.message)}</p>
<p class="small">Error: {escape(error.error)} · Trace ID: {escape(error.trace_id)}</p>"""
    return _page("Sign in error", body)


def form_post_page(redirect_uri: str, params: dict[str, str]) -> bytes:
    fields = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    body = f"""
<h1>Working…</h1>
<form id="response" method="post" action="{escape(redirect_uri)}">{fields}
<noscript><button type="submit" class="primary">Continue</button></noscript></form>
<script>document.getElementById("response").submit()</script>"""
    return _page("Working…", body)


def message_page(title: str, text: str) -> bytes:
    return _page(title, f"<h1>{escape(title)}</h1><p>{escape(text)}</p>")
