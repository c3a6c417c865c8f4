"""What moto 5.2.5 lacks for continuous deployment's resources, answered as AWS answers it.

- IAM AddClientIDToOpenIDConnectProvider / RemoveClientIDFromOpenIDConnectProvider (moto answers 500):
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html
  (adding a client ID the provider has already is not an error; removing one it lacks is not either).
- CodeBuild UpdateProject (moto answers 500): the fields given replace the project's, the rest stay;
  `tags` given replace all of its tags.
  https://docs.aws.amazon.com/codebuild/latest/APIReference/API_UpdateProject.html
"""

from moto.core.responses import ActionResult, EmptyResult


def fix_ci_gaps() -> None:
    from moto.codebuild.exceptions import ResourceNotFoundException
    from moto.codebuild.responses import CodeBuildResponse
    from moto.iam.responses import IamResponse

    def add_client_id(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id not in provider.client_id_list:
            provider.client_id_list.append(client_id)
        return EmptyResult()

    def remove_client_id(self):
        provider = self.backend.get_open_id_connect_provider(self._get_param("OpenIDConnectProviderArn"))
        client_id = self._get_param("ClientID")
        if client_id in provider.client_id_list:
            provider.client_id_list.remove(client_id)
        return EmptyResult()

    IamResponse.add_client_id_to_open_id_connect_provider = add_client_id
    IamResponse.remove_client_id_from_open_id_connect_provider = remove_client_id

    # UpdateProject's request members and where CreateProject's answer keeps each.
    fields = {
        "description": "description",
        "source": "source",
        "sourceVersion": "sourceVersion",
        "artifacts": "artifacts",
        "cache": "cache",
        "environment": "environment",
        "serviceRole": "serviceRole",
        "timeoutInMinutes": "timeoutInMinutes",
        "queuedTimeoutInMinutes": "queuedTimeoutInMinutes",
        "tags": "tags",
        "vpcConfig": "vpcConfig",
        "logsConfig": "logsConfig",
    }

    def update_project(self):
        name = self._get_param("name")
        project = self.codebuild_backend.codebuild_projects.get(name)
        if project is None:
            arn = f"arn:aws:codebuild:{self.region}:{self.current_account}:project/{name}"
            raise ResourceNotFoundException(f"Project cannot be found: {arn}")
        for member, key in fields.items():
            value = self._get_param(member)
            if value is not None:
                project.project_metadata[key] = value
        if self._get_param("tags") is not None:
            project.tags = self._get_param("tags")
        return ActionResult({"project": project.project_metadata})

    CodeBuildResponse.update_project = update_project
