"""OpenSearch Service domains and Amazon MQ brokers as AWS answers for them (issue 14).

moto 5.2.5 makes both ready at once and forgets them at once, names no real endpoint host, echoes a domain's
VPC options without the VPC and zones, and leaves both out of the Resource Groups Tagging API. AWS:
- a new domain is Processing, with no endpoint, until it is built; a deleted one answers Deleted: true until it
  is gone (https://docs.aws.amazon.com/opensearch-service/latest/APIReference/API_DomainStatus.html); its
  VPCOptions carry VPCId and AvailabilityZones (API_VPCDerivedInfo.html);
- a new broker is CREATION_IN_PROGRESS, a deleted one DELETION_IN_PROGRESS, and its AMQPS endpoint is
  amqps://b-<id>.mq.<region>.amazonaws.com:5671 (https://docs.aws.amazon.com/amazon-mq/latest/api-reference/brokers-broker-id.html);
- a VPC domain needs the account's OpenSearch service-linked role;
- GetResources lists both, as es:domain and mq:broker
  (https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html).
Here each state lasts one look, so waits see it without the minutes.
"""


def answer_search_and_brokers_as_aws() -> None:
    _domains()
    _brokers()
    _tagging()


def _domains() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.ec2.models import ec2_backends
    from moto.iam import models as iam
    from moto.opensearch.models import OpenSearchDomain, OpenSearchServiceBackend

    # The service-linked role AWS names AWSServiceRoleForAmazonOpenSearchService, which a VPC domain needs
    # (https://docs.aws.amazon.com/opensearch-service/latest/developerguide/slr-aos.html): AWS refuses
    # CreateDomain with VPCOptions until it exists.
    iam.SERVICE_NAME_CONVERSION["opensearchservice"] = "AmazonOpenSearchService"
    create = OpenSearchServiceBackend.create_domain

    def create_domain(self, domain_name, *args, **kwargs):
        if kwargs.get("vpc_options"):
            try:
                iam.iam_backends[self.account_id]["aws"].get_role("AWSServiceRoleForAmazonOpenSearchService")
            except Exception:
                raise JsonRESTError(
                    "ValidationException",
                    "Before you can proceed, you must enable a service-linked role to give Amazon OpenSearch "
                    "Service permissions to access your VPC.",
                )
        return create(self, domain_name, *args, **kwargs)

    OpenSearchServiceBackend.create_domain = create_domain

    made = OpenSearchDomain.__init__

    def domain(self, *args, **kwargs):
        made(self, *args, **kwargs)
        self._building = self.endpoints is not None or self.endpoint is not None
        self._hidden = (self.endpoint, self.endpoints)
        if self._building:
            self.processing = True
            self.endpoint, self.endpoints = None, None
        if self.vpc_options:
            ec2 = ec2_backends[kwargs["account_id"]][kwargs["region"]]
            subnets = [ec2.get_subnet(s) for s in self.vpc_options.get("SubnetIds", [])]
            if subnets:
                self.vpc_options["VPCId"] = subnets[0].vpc_id
                self.vpc_options["AvailabilityZones"] = [s.availability_zone for s in subnets]

    OpenSearchDomain.__init__ = domain

    describe, delete = OpenSearchServiceBackend.describe_domain, OpenSearchServiceBackend.delete_domain

    def describe_domain(self, domain_name):
        deleting = self.__dict__.setdefault("_deleting", {})
        if domain_name in deleting:
            return deleting.pop(domain_name)
        d = describe(self, domain_name)
        if getattr(d, "_building", False):
            if getattr(d, "_looked", False):
                d.processing, d._building = False, False
                d.endpoint, d.endpoints = d._hidden
            d._looked = True
        return d

    def delete_domain(self, domain_name):
        gone = delete(self, domain_name)
        self.__dict__.setdefault("_deleting", {})[domain_name] = gone
        return gone

    OpenSearchServiceBackend.describe_domain = describe_domain
    OpenSearchServiceBackend.delete_domain = delete_domain


def _brokers() -> None:
    from moto.mq.models import Broker, MQBackend

    made = Broker.__init__

    def broker(self, *args, **kwargs):
        made(self, *args, **kwargs)
        host = f"b-{self.id}.mq.{kwargs['region']}.amazonaws.com"
        for instance in self.instances:
            instance["consoleURL"] = f"https://{host}"
            instance["endpoints"] = [f"amqps://{host}:5671"]
        self.state = "CREATION_IN_PROGRESS"

    Broker.__init__ = broker

    describe, delete = MQBackend.describe_broker, MQBackend.delete_broker

    def describe_broker(self, broker_id):
        deleting = self.__dict__.setdefault("_deleting", {})
        if broker_id in deleting:
            return deleting.pop(broker_id)
        b = describe(self, broker_id)
        if b.state == "CREATION_IN_PROGRESS":
            if getattr(b, "_looked", False):
                b.state = "RUNNING"
            b._looked = True
        return b

    def delete_broker(self, broker_id):
        b = describe(self, broker_id)
        delete(self, broker_id)
        b.state = "DELETION_IN_PROGRESS"
        self.__dict__.setdefault("_deleting", {})[broker_id] = b

    MQBackend.describe_broker = describe_broker
    MQBackend.delete_broker = delete_broker


class _Listed:
    """A backend moto's tagging API does not walk, seen as one that it does."""

    def __init__(self, resources):
        self._resources = resources

    def iter_tagged_resources(self):
        return iter(self._resources)

    def owns_arn(self, arn):
        return False


def _tagging() -> None:
    from moto.core.resource_tagging import TaggedResource
    from moto.mq.models import mq_backends
    from moto.opensearch.models import opensearch_backends
    from moto.resourcegroupstaggingapi import models as tagging

    walk = tagging.iter_taggable_backends

    def backends(account_id, region_name):
        yield from walk(account_id, region_name)
        resources = []
        if account_id in opensearch_backends and region_name in opensearch_backends[account_id]:
            os = opensearch_backends[account_id][region_name]
            for d in os.domains.values():
                tags = {t["Key"]: t["Value"] for t in os.list_tags(d.arn)}
                resources.append(TaggedResource(arn=d.arn, tags=tags, resource_type="es:domain"))
        if account_id in mq_backends and region_name in mq_backends[account_id]:
            mq = mq_backends[account_id][region_name]
            for b in mq.brokers.values():
                resources.append(TaggedResource(arn=b.arn, tags=dict(mq.list_tags(b.arn)), resource_type="mq:broker"))
        if resources:
            yield _Listed(resources)

    tagging.iter_taggable_backends = backends
