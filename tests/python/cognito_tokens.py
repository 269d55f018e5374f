"""Signs in two users of a Cognito user pool in moto (the real cognito-idp API, through boto3) and
prints their ID and access tokens as JSON, for tests/tests/identity.rs:

    python cognito_tokens.py ENDPOINT
    -> {"moderator": {"id": ..., "access": ...}, "member": {"id": ..., "access": ...}}

The pool has an app client allowing USER_PASSWORD_AUTH and a group `moderators`; `moderator` is
in it, `member` is not. Credentials and region come from the environment (dummy values).
"""
import json
import sys

import boto3

PASSWORD = "Correct-Horse-9-Battery"


def main(endpoint: str) -> None:
    idp = boto3.client("cognito-idp", endpoint_url=endpoint)
    pool = idp.create_user_pool(PoolName="videosdk-token-api-test")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(GroupName="moderators", UserPoolId=pool)
    tokens = {}
    for name in ("moderator", "member"):
        idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD, Permanent=True)
        if name == "moderator":
            idp.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName="moderators")
        result = idp.initiate_auth(
            ClientId=client,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        tokens[name] = {"id": result["IdToken"], "access": result["AccessToken"]}
    json.dump(tokens, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
