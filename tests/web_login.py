"""Signing in to the web app as a browser does: open the form (its token and cookie), post it."""

from __future__ import annotations

import re

import requests


def login_form(session: requests.Session, url: str) -> dict[str, str]:
    """The hidden fields of the sign-in form just shown to this session (its cookie is set)."""
    page = session.get(f"{url}/login", timeout=10).text
    match = re.search(r'name="form_token" value="([^"]+)"', page)
    return {"form_token": match.group(1)} if match else {}


def post_login(session: requests.Session, url: str, email: str, password: str, **fields: str) -> requests.Response:
    data = {**login_form(session, url), "email": email, "password": password, **fields}
    return session.post(f"{url}/login", data=data, allow_redirects=False, timeout=10)
