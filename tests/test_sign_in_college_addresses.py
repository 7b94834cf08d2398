"""Which provider addresses this server will call (accounts.college_sign_in.provider_url_problem).
The issuer URL is set by a beheerder and the discovery document names the other endpoints, so
in production only https to hosts whose every address is public is called; runserver and the
tests (DEBUG or TESTING) also allow http on this machine. No real DNS: getaddrinfo is faked."""

import json
import socket

import pytest
import requests
from django.test import override_settings
from django.urls import reverse

from accounts import college_sign_in as sso
from accounts.college_sign_in import ProviderError, check_provider, provider_url_problem
from accounts.models import CollegeSignIn
from tests.helpers.candidates import logged_in

PRODUCTION = override_settings(DEBUG=False, TESTING=False)
ADDRESSES = {
    "login.example.test": ["145.100.1.1"],
    "ipv6.example.test": ["2a00:1450:4001:80b::200e"],
    "intern.example.test": ["10.1.2.3"],
    "metadata.example.test": ["169.254.169.254"],
    "half.example.test": ["145.100.1.1", "192.168.1.9"],
    "cgnat.example.test": ["100.64.0.1"],
    "mapped.example.test": ["::ffff:127.0.0.1"],
    "linklocal6.example.test": ["fe80::1%eth0"],
    "localhost": ["127.0.0.1", "::1"],
}


@pytest.fixture
def dns(monkeypatch):
    """Only the hosts above resolve; every lookup is recorded."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host.replace(".", "").isdigit() or ":" in host:  # an address literal, as is
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (host, port))]
        if host not in ADDRESSES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in ADDRESSES[host]
        ]

    monkeypatch.setattr(sso.socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://login.example.test/realms/school", None),
        ("http://127.0.0.1:8080", None),
        ("http://localhost:8080/", None),
        ("https://intern.example.test", None),  # not resolved: a test provider may be anywhere
        ("http://login.example.test", "insecure"),
        ("ftp://127.0.0.1", "insecure"),
        ("https://", "insecure"),
    ],
)
def test_runserver_and_tests_allow_a_provider_on_this_machine(dns, url, problem):
    assert provider_url_problem(url) == problem
    assert dns == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://login.example.test/realms/school", None),
        ("https://ipv6.example.test:8443", None),
        ("http://login.example.test", "https_only"),
        ("http://127.0.0.1:8080", "https_only"),
        ("http://localhost:8080", "https_only"),
        ("https://localhost", "private"),
        ("https://127.0.0.1", "private"),
        ("https://[::1]", "private"),
        ("https://10.0.0.8", "private"),
        ("https://intern.example.test", "private"),
        ("https://metadata.example.test/latest/meta-data", "private"),
        ("https://169.254.169.254", "private"),
        ("https://half.example.test", "private"),  # one private address is enough
        ("https://cgnat.example.test", "private"),
        ("https://mapped.example.test", "private"),
        ("https://linklocal6.example.test", "private"),
        ("https://224.0.0.1", "private"),
        ("https://bestaat-niet.example.test", "unreachable"),
        ("https://login.example.test:99999", "unreachable"),
    ],
)
def test_production_calls_only_https_on_public_addresses(dns, url, problem):
    with PRODUCTION:
        assert provider_url_problem(url) == problem


def test_production_without_resolving_checks_the_scheme_only(dns):
    with PRODUCTION:
        assert provider_url_problem("https://intern.example.test", resolve=False) is None
        assert provider_url_problem("http://login.example.test", resolve=False) == "https_only"
    assert dns == []


def fake_get(monkeypatch, document=None, status=200, headers=None):
    """requests.get in college_sign_in answers with this discovery document; calls recorded."""
    calls: list[dict] = []

    def get(url, **kwargs):
        calls.append({"url": url, **kwargs})
        response = requests.Response()
        response.status_code = status
        response.headers.update(headers or {"Content-Type": "application/json"})
        response._content = json.dumps(document or {}).encode()
        response.url = url
        return response

    monkeypatch.setattr(sso.requests, "get", get)
    return calls


ISSUER = "https://login.example.test/realms/school"


def document(**endpoints):
    base = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/auth",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/certs",
        "userinfo_endpoint": f"{ISSUER}/userinfo",
    }
    return {**base, **endpoints}


def test_production_reads_a_public_provider_without_following_redirects(dns, monkeypatch):
    calls = fake_get(monkeypatch, document())
    with PRODUCTION:
        assert check_provider(ISSUER)["token_endpoint"] == f"{ISSUER}/token"
    assert calls == [
        {
            "url": f"{ISSUER}/.well-known/openid-configuration",
            "timeout": sso.PROVIDER_TIMEOUT_SECONDS,
            "allow_redirects": False,
        }
    ]


@pytest.mark.parametrize(
    ("key", "endpoint"),
    [
        ("token_endpoint", "http://login.example.test/token"),  # the client secret, in clear
        ("token_endpoint", "https://metadata.example.test/token"),
        ("jwks_uri", "https://intern.example.test/certs"),
        ("userinfo_endpoint", "https://localhost/userinfo"),
        ("authorization_endpoint", "http://login.example.test/auth"),
    ],
)
def test_production_refuses_a_document_naming_an_insecure_or_internal_endpoint(
    dns, monkeypatch, key, endpoint
):
    fake_get(monkeypatch, document(**{key: endpoint}))
    with PRODUCTION, pytest.raises(ProviderError) as raised:
        check_provider(ISSUER)
    assert (raised.value.code, raised.value.detail) == ("endpoint", endpoint)


def test_the_browser_only_authorization_endpoint_is_not_resolved(dns, monkeypatch):
    fake_get(monkeypatch, document(authorization_endpoint="https://sso.intranet.test/auth"))
    with PRODUCTION:
        check_provider(ISSUER)
    assert "sso.intranet.test" not in dns


def test_an_internal_issuer_is_never_fetched(dns, monkeypatch):
    calls = fake_get(monkeypatch, document())
    with PRODUCTION, pytest.raises(ProviderError) as raised:
        check_provider("https://metadata.example.test")
    assert raised.value.code == "private"
    assert calls == []


def test_a_redirecting_discovery_document_is_unreachable(dns, monkeypatch):
    fake_get(monkeypatch, status=302, headers={"Location": "http://169.254.169.254/"})
    with PRODUCTION, pytest.raises(ProviderError) as raised:
        check_provider(ISSUER)
    assert raised.value.code == "unreachable"


def test_the_tests_own_provider_endpoints_are_allowed_outside_production(dns, monkeypatch):
    local = "http://127.0.0.1:9"
    fake_get(monkeypatch, {**document(), "issuer": local, "token_endpoint": f"{local}/token"})
    assert check_provider(local)["token_endpoint"] == f"{local}/token"


PAGE = reverse("candidates:settings_sign_in")


@pytest.mark.parametrize(
    ("issuer", "message"),
    [
        ("http://127.0.0.1:9", "De issuer-URL moet met https:// beginnen."),
        (
            "https://intern.example.test",
            "De inlogdienst op https://intern.example.test/.well-known/openid-configuration ligt "
            "op een intern of lokaal netwerkadres. Kies de issuer-URL van een inlogdienst die "
            "via internet bereikbaar is.",
        ),
    ],
)
def test_the_settings_form_tells_it_in_dutch(client, world, dns, issuer, message):
    data = {"enabled": "on", "issuer": issuer, "client_id": "kb", "client_secret": "geheim-1234"}
    data["claim"] = "email"
    with PRODUCTION:
        response = logged_in(client, world.beheerder).post(PAGE, data)
    assert response.status_code == 200
    errors = {k: [str(e) for e in v] for k, v in response.context["form"].errors.items()}
    assert errors == {"issuer": [message]}
    assert not CollegeSignIn.objects.exists()


def test_the_settings_form_names_the_bad_endpoint(client, world, dns, monkeypatch):
    fake_get(monkeypatch, document(token_endpoint="http://login.example.test/token"))
    data = {"enabled": "on", "issuer": ISSUER, "client_id": "kb", "client_secret": "geheim-1234"}
    data["claim"] = "email"
    with PRODUCTION:
        response = logged_in(client, world.beheerder).post(PAGE, data)
    assert [str(e) for e in response.context["form"].errors["issuer"]] == [
        f"De configuratie op {ISSUER}/.well-known/openid-configuration noemt het adres "
        "http://login.example.test/token: dat moet met https:// beginnen en via internet "
        "bereikbaar zijn."
    ]


def test_a_saved_internal_issuer_is_a_provider_error_at_sign_in(client, world, dns, monkeypatch):
    """A row saved before this check, or a host that now resolves elsewhere: the sign-in reads
    the document through the same check and ends on the Dutch provider-error page."""
    calls = fake_get(monkeypatch, document())
    CollegeSignIn.objects.create(
        organisation=world.college, enabled=True, issuer="http://127.0.0.1:9", client_id="kb"
    )
    with PRODUCTION:
        response = client.get(reverse("accounts:college_sign_in", args=["rocm"]))
    assert response.status_code == 502
    assert calls == []


def test_authlibs_own_calls_follow_no_redirect(world, monkeypatch):
    """Token, jwks and userinfo go through Authlib's sessions: a redirect there is an error
    (requests.TooManyRedirects, a provider error), never a second, unchecked address."""
    fake_get(monkeypatch, document())
    sign_in = CollegeSignIn(organisation=world.college, issuer=ISSUER, client_id="kb")
    client = sso.client_for(sign_in)
    metadata = client.load_server_metadata()
    assert metadata["jwks_uri"] == f"{ISSUER}/certs"
    assert client._get_session().max_redirects == 0
    assert client._get_oauth_client(**metadata).max_redirects == 0
    assert issubclass(requests.TooManyRedirects, sso.PROVIDER_ERRORS)
