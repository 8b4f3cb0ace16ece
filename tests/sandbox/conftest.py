from tests.sandbox.fixtures import gateway, make_request, merchant, receiver  # noqa: F401 - fixtures
