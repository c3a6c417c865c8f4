"""What moto 5.2.5 works out again for every request although the answer never changes, worked out once.

Measured with py-spy on the server of src/aws/ec2/vpc.test.ts (517 calls): finding the backend of a request
took 37% of the server's CPU (a listing of moto's package folder and a stat of each of its ~250 entries, then
hundreds of URL patterns, per request, under one lock), and listing a response class's methods with
inspect.getmembers 5%. Both depend only on the host name or the class; what a request does is unchanged.
"""

import functools


def dispatch_once_per_host() -> None:
    from moto import backends
    from moto.core import responses
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    # The package's folders do not change while the server runs.
    modules = backends.list_of_moto_modules
    backends.list_of_moto_modules = functools.cache(lambda: tuple(modules()))
    find_backend = DomainDispatcherApplication.get_backend_for_host
    by_host: dict = {}

    def get_backend_for_host(self, host):
        # Host names here are "<service>.<region>.amazonaws.com" (path-style S3): a few dozen at most.
        if host not in by_host:
            by_host[host] = find_backend(self, host)
        return by_host[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host

    # Every method a response class will have is patched in before the server starts (local_aws.py).
    names = responses.method_names_from_class
    by_class: dict = {}

    def method_names_from_class(clazz):
        if clazz not in by_class:
            by_class[clazz] = frozenset(names(clazz))
        return by_class[clazz]

    responses.method_names_from_class = method_names_from_class
