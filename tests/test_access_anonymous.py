"""Every URL of the product refuses anonymous visitors, so a view added without its access
decorator fails here even before its own access test is written."""

import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

# The college sign-in is how an anonymous visitor becomes a signed-in one (its own tests:
# tests/test_sign_in_college_*.py).
PUBLIC = {
    "accounts:login",
    "set_language",
    "accounts:college_sign_in",
    "accounts:college_sign_in_callback",
}
# The OpenID Connect endpoints an exam environment calls: public by protocol, each guarded by
# client authentication or a bearer token (tests/test_exam_endpoints.py shows every answer).
PUBLIC |= {
    "oauth2_provider:oidc-connect-discovery-info",
    "oauth2_provider:jwks-info",
    "oauth2_provider:token",
    "oauth2_provider:user-info",
    "oauth2_provider:rp-initiated-logout",
    "oauth2_provider:revoke-token",
}
SKIP_NAMESPACES = {"admin", "hijack"}  # Django admin and django-hijack guard themselves


def named_patterns(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in SKIP_NAMESPACES:
                continue
            yield from named_patterns(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}:{entry.name}" if namespace else entry.name, entry


def url_for(name, pattern):
    converters = pattern.pattern.converters
    kwargs = {}
    for key, converter in converters.items():
        kwargs[key] = uuid.uuid4() if converter.regex.startswith("[0-9a-f]{8}") else 1
    return reverse(name, kwargs=kwargs)


ALL = sorted((item for item in named_patterns() if item[0] not in PUBLIC), key=lambda i: i[0])


def test_the_product_has_urls():
    names = {name for name, _ in ALL}
    assert not names & PUBLIC
    assert {"candidates:list", "imports:start", "imports:confirm", "accounts:home"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), ALL, ids=[name for name, _ in ALL])
def test_anonymous_is_sent_to_login(client, name, pattern):
    url = url_for(name, pattern)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (302, 405), (method, url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("accounts:login")), url
