import { Arg, Args, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import type { TouchlineContext } from '../context';
import { userError } from '../errors';
import { CommandArgs, runCommand } from '../shared/commands';
import {
  ApiKey,
  Caller,
  CreateApiKeyInput,
  CreateApiKeyResult,
  RevokeApiKeyResult,
  Workspace,
} from './access.types';

@Resolver()
export class AccessResolver {
  @Query(() => Workspace, { description: "The caller's workspace." })
  async workspace(@Ctx() context: TouchlineContext): Promise<Workspace> {
    const state = await context.services.access.workspace(context.workspaceId);
    if (state.status !== 'Active') {
      throw userError('NOT_FOUND', `workspace ${context.workspaceId} does not exist`, {
        reason: 'NOT_FOUND',
      });
    }
    return Object.assign(new Workspace(), {
      id: state.workspaceId,
      name: state.name,
      createdAt: state.createdAt,
    });
  }

  @Query(() => Caller, { description: 'The key this request is made with, and its role.' })
  me(@Ctx() { workspaceId, caller }: TouchlineContext): Caller {
    if (!caller) throw userError('UNAUTHENTICATED', 'this request carries no API key');
    return Object.assign(new Caller(), { workspaceId, keyId: caller.keyId, role: caller.role });
  }

  @Query(() => [ApiKey], { description: "The workspace's API keys, newest first (owners only)." })
  async apiKeys(
    @Arg('includeRevoked', { defaultValue: false }) includeRevoked: boolean,
    @Ctx() { services, workspaceId }: TouchlineContext,
  ): Promise<ApiKey[]> {
    const state = await services.access.workspace(workspaceId);
    if (state.status !== 'Active') return [];
    const now = services.clock();
    return [...state.keys.values()]
      .filter((key) => includeRevoked || key.revokedAt === null)
      .sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime() || (a.keyId < b.keyId ? -1 : 1))
      .map((key) => ApiKey.from(key, now));
  }

  @Mutation(() => CreateApiKeyResult, {
    description:
      'Creates an API key with a role (owners only). The secret is in the answer and nowhere else: it is stored hashed.',
  })
  async createApiKey(
    @Arg('input') input: CreateApiKeyInput,
    @Ctx() context: TouchlineContext,
  ): Promise<CreateApiKeyResult> {
    const { services } = context;
    let issued: Awaited<ReturnType<typeof services.access.issueKey>> | undefined;
    const result = await runCommand(
      context,
      { commandId: null },
      (metadata) => ({ metadata }),
      async ({ metadata }, options) => {
        issued = await services.access.issueKey(
          metadata,
          { name: input.name, role: input.role, expiresAt: input.expiresAt ?? null },
          options,
        );
        return { revision: issued.revision, position: issued.position, replayed: false };
      },
    );
    if (!issued) throw new Error('the key was not issued');
    return Object.assign(new CreateApiKeyResult(), {
      revision: result.revision,
      position: result.position,
      replayed: false,
      key: ApiKey.from(issued.key, services.clock()),
      secret: issued.token,
    });
  }

  @Mutation(() => RevokeApiKeyResult, {
    description:
      'Revokes an API key for good (owners only): requests with it fail at once and its open WebSocket connections are closed. The last working owner key cannot be revoked.',
  })
  async revokeApiKey(
    @Arg('id', () => ID) id: string,
    @Args() args: CommandArgs,
    @Ctx() context: TouchlineContext,
  ): Promise<RevokeApiKeyResult> {
    const { services } = context;
    let revokedKey: Parameters<typeof ApiKey.from>[0] | undefined;
    const result = await runCommand(
      context,
      { commandId: args.commandId, expectedRevision: args.expectedRevision },
      (metadata) => ({ metadata }),
      async ({ metadata }, options) => {
        const revoked = await services.access.revokeKey(metadata, id, options);
        revokedKey = revoked.key;
        return revoked;
      },
    );
    if (!revokedKey) throw new Error('the key was not revoked');
    return Object.assign(new RevokeApiKeyResult(), {
      revision: result.revision,
      position: result.position,
      replayed: result.replayed,
      key: ApiKey.from(revokedKey, services.clock()),
    });
  }
}
