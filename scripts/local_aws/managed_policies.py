"""AWS managed policies (arn:aws:iam::aws:policy/...) in every account, as on AWS, without their cost.

AWS lists "all AWS managed policies" among an account's policies whether anyone asked for them:
https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListPolicies.html
moto 5.2.5 builds all ~1,600 of them in every IAM backend it makes only when MOTO_IAM_LOAD_MANAGED_POLICIES
is set, and it makes one backend per partition on every request after a reset (get_account_id_from): about
a CPU second a reset. Here moto's catalogue is parsed once per process and a policy is made in a backend
the first time it is named (GetPolicy, GetPolicyVersion, Attach/Detach*Policy, ListEntitiesForPolicy...);
only a listing of every policy (ListPolicies, GetAccountAuthorizationDetails, AWS Config) makes them all.
Each backend makes its own objects: an account's AttachmentCount is its own and goes with a reset.
"""

import json
import re
import threading

_catalogue: dict[str, tuple[str, dict]] | None = None
_catalogue_lock = threading.Lock()
_AWS_POLICY = re.compile(r"^arn:([^:]+):iam::aws:policy(/.*)$")


def catalogue() -> dict[str, tuple[str, dict]]:
    """moto's AWS managed policies by path and name ("/service-role/AWSLambdaRole") -> (name, data)."""
    global _catalogue
    with _catalogue_lock:
        if _catalogue is None:
            from moto.iam.aws_managed_policies import aws_managed_policies_data

            _catalogue = {
                f"{data.get('Path') or '/'}{name}": (name, data)
                for name, data in json.loads(aws_managed_policies_data).items()
            }
        return _catalogue


class ManagedPolicies(dict):
    """An IAM backend's managed policies by ARN: its own, and AWS's made on first use."""

    def __init__(self, backend):
        super().__init__()
        self.backend = backend
        self.complete = False
        self.lock = threading.Lock()

    def resolve(self, arn) -> bool:
        """Makes AWS's policy of this ARN here if it is one; whether the backend now has it."""
        if dict.__contains__(self, arn):
            return True
        found = _AWS_POLICY.match(arn) if isinstance(arn, str) else None
        if not found or found.group(1) != self.backend.partition:
            return False
        entry = catalogue().get(found.group(2))
        if entry is None:
            return False
        self._make(*entry)
        return True

    def make_all(self) -> None:
        if self.complete:
            return
        for name, data in catalogue().values():
            self._make(name, data)
        self.complete = True

    def _make(self, name: str, data: dict) -> None:
        from moto.iam.models import AWSManagedPolicy

        with self.lock:
            policy = AWSManagedPolicy.from_data(name, self.backend.account_id, self.backend.region_name, data)
            if dict.setdefault(self, policy.arn, policy) is policy:
                self.backend.aws_managed_policies.append(policy)

    def __contains__(self, arn) -> bool:
        return self.resolve(arn)

    def __missing__(self, arn):
        if self.resolve(arn):
            return dict.__getitem__(self, arn)
        raise KeyError(arn)

    def get(self, arn, default=None):
        return self[arn] if self.resolve(arn) else default


def answer_managed_policies_as_aws() -> None:
    from moto.iam import config as iam_config
    from moto.iam.models import IAMBackend

    # The backend's own answer (none, or all of them, by MOTO_IAM_LOAD_MANAGED_POLICIES) gives way to the lazy one.
    IAMBackend._init_aws_policies = lambda self: []
    IAMBackend._init_managed_policies = lambda self: ManagedPolicies(self)

    def naming_first(method):
        """moto looks a policy up among the backend's made ones: make the one named first."""

        def call(self, policy_arn, *args, **kwargs):
            self.managed_policies.resolve(policy_arn)
            return method(self, policy_arn, *args, **kwargs)

        return call

    for name in (
        "attach_role_policy",
        "detach_role_policy",
        "attach_group_policy",
        "detach_group_policy",
        "attach_user_policy",
        "detach_user_policy",
    ):
        setattr(IAMBackend, name, naming_first(getattr(IAMBackend, name)))

    def listing_all(method):
        def call(self, *args, **kwargs):
            self.managed_policies.make_all()
            return method(self, *args, **kwargs)

        return call

    IAMBackend.list_policies = listing_all(IAMBackend.list_policies)
    IAMBackend.get_account_authorization_details = listing_all(IAMBackend.get_account_authorization_details)

    # AWS Config's view of IAM policies walks every backend's policies.
    config_query = iam_config.PolicyConfigQuery

    def config_listing_all(method):
        def call(self, *args, **kwargs):
            for account in self.backends.values():
                for backend in account.values():
                    backend.managed_policies.make_all()
            return method(self, *args, **kwargs)

        return call

    config_query.list_config_service_resources = config_listing_all(config_query.list_config_service_resources)
    config_query.get_config_resource = config_listing_all(config_query.get_config_resource)
