"""EC2 resources' tags looked up by id, as AWS does, where moto 5.2.5 scans every tag of the region.

moto's TaggedEC2Resource.get_tags asks describe_tags for one resource id, which walks every tag of every
resource: an answer listing n tagged resources costs n² (twice: the tag filter, then the answer's TagSet).
Describing 600 subnets took moto 1 to 3 s of CPU (bench/plan-scale), where AWS answers in well under one.
The lookup below returns the same entries in the same order; only its cost changes.
"""


def look_up_ec2_tags_by_id() -> None:
    from moto.ec2.models.core import TaggedEC2Resource
    from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

    def get_tags(self) -> list[dict[str, str]]:
        if not self.id:
            return []
        # .get: the store is a defaultdict, and a lookup must not add an entry for an untagged resource.
        tags = self.ec2_backend.tags.get(self.id)
        if not tags:
            return []
        resource_type = EC2_PREFIX_TO_RESOURCE.get(get_prefix(self.id), "")
        return [
            {"resource_id": self.id, "key": key, "value": value, "resource_type": resource_type}
            for key, value in tags.items()
        ]

    TaggedEC2Resource.get_tags = get_tags
