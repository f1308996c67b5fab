import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/**
 * The IAM statements of the functions, each scoped to the resources it names: the users'
 * secrets are found by name (`<prefix>/users/<user id>`, see `userSecretId`), so their ARNs are
 * matched by that name followed by Secrets Manager's random suffix; every other secret and the
 * cluster are named by their exact ARN.
 */

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<prefix>/users/*`. */
export function userSecretsArn(scope: IConstruct, secretPrefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: `${secretPrefix}/users/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** Reading the named secrets (for the Data API, the caller must be able to read the secret it passes). */
export function readSecrets(secretArns: string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secretArns });
}

/** What provisioning and removing users does to their secrets (AwsSecretsManagerStore put/get/delete). */
export function manageUserSecrets(scope: IConstruct, secretPrefix: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [
      'secretsmanager:CreateSecret',
      'secretsmanager:PutSecretValue',
      'secretsmanager:GetSecretValue',
      'secretsmanager:DeleteSecret',
    ],
    resources: [userSecretsArn(scope, secretPrefix)],
  });
}

/** Reading the users' secrets (credentials mode logs in as the user). */
export function readUserSecrets(scope: IConstruct, secretPrefix: string): iam.PolicyStatement {
  return readSecrets([userSecretsArn(scope, secretPrefix)]);
}

/** The RDS Data API on one cluster: statements and the transactions that wrap them. */
export function dataApi(clusterArn: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [
      'rds-data:ExecuteStatement',
      'rds-data:BatchExecuteStatement',
      'rds-data:BeginTransaction',
      'rds-data:CommitTransaction',
      'rds-data:RollbackTransaction',
    ],
    resources: [clusterArn],
  });
}
