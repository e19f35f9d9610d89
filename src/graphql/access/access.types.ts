import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';
import { type ApiKeyState, isKeyActive } from '../../domain/workspace';
import { CommandResultFields } from '../shared/commands';

export enum ApiKeyRoleValue {
  OWNER = 'owner',
  EDITOR = 'editor',
  VIEWER = 'viewer',
  INGEST = 'ingest',
}
registerEnumType(ApiKeyRoleValue, {
  name: 'ApiKeyRole',
  description:
    'OWNER: keys and everything; EDITOR: every domain command; VIEWER: queries and subscriptions; INGEST: the tracking endpoints and trackEvents only.',
});

export enum ApiKeyStatus {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(ApiKeyStatus, { name: 'ApiKeyStatus' });

@ObjectType({ description: 'An API key of the workspace. Its secret is never shown again.' })
export class ApiKey {
  @Field(() => ID, { description: 'The key id: the third part of the key (tl.…).' })
  id!: string;

  @Field()
  name!: string;

  @Field(() => ApiKeyRoleValue)
  role!: ApiKeyRoleValue;

  @Field(() => ApiKeyStatus)
  status!: ApiKeyStatus;

  @Field()
  createdAt!: Date;

  @Field(() => String, {
    nullable: true,
    description: "Who created it: key:<id>, or cli:init / bootstrap for a workspace's first key.",
  })
  createdBy!: string | null;

  @Field(() => Date, { nullable: true })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  static from(key: ApiKeyState, now: Date): ApiKey {
    const status =
      key.revokedAt !== null
        ? ApiKeyStatus.REVOKED
        : isKeyActive(key, now)
          ? ApiKeyStatus.ACTIVE
          : ApiKeyStatus.EXPIRED;
    return Object.assign(new ApiKey(), {
      id: key.keyId,
      name: key.name,
      role: key.role as ApiKeyRoleValue,
      status,
      createdAt: key.issuedAt,
      createdBy: key.issuedBy,
      expiresAt: key.expiresAt,
      revokedAt: key.revokedAt,
    });
  }
}

@ObjectType({ description: 'A tenant: every stream, event and read model belongs to one.' })
export class Workspace {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType({ description: 'The key a request is made with.' })
export class Caller {
  @Field(() => ID)
  workspaceId!: string;

  @Field(() => ID)
  keyId!: string;

  @Field(() => ApiKeyRoleValue)
  role!: ApiKeyRoleValue;
}

@InputType()
export class CreateApiKeyInput {
  @Field({ description: 'Who or what holds the key (1 to 100 characters).' })
  name!: string;

  @Field(() => ApiKeyRoleValue)
  role!: ApiKeyRoleValue;

  @Field(() => Date, { nullable: true, description: 'The key stops working at this instant.' })
  expiresAt?: Date | null;
}

@ObjectType()
export class CreateApiKeyResult extends CommandResultFields {
  @Field(() => ApiKey)
  key!: ApiKey;

  @Field({
    description:
      'The whole key, shown this once: send it as `Authorization: Bearer <secret>` (or as the Basic user of the tracking endpoints).',
  })
  secret!: string;
}

@ObjectType()
export class RevokeApiKeyResult extends CommandResultFields {
  @Field(() => ApiKey)
  key!: ApiKey;
}
