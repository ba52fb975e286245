import { Elysia } from 'elysia'
import type { Group, Store } from '../db/store'
import { AppError } from '../http/errors'
import { described, errorResponse, type ErrorExample } from '../http/responses'
import type { GroupLimits } from '../limits/group-limits'
import type { Directory } from '../messages/directory'
import { AddMemberBody, CreateGroupBody, GroupParams, GroupView, MemberParams } from './model'

const notMember: ErrorExample = ['not_a_member', 'user 4 is not a member of group 1']
const unknownGroup: ErrorExample = ['unknown_group', 'group 42 does not exist']
const unknownUser: ErrorExample = ['unknown_user', 'user 99 does not exist']
const groupFull: ErrorExample = ['group_full', 'a group has at most 10000 members']
const tooManyGroups: ErrorExample = ['too_many_groups', 'user 3 is already in 500 groups, the most a user may be in']
const tooManyAdds: ErrorExample = ['too_many_group_adds', 'user 3 was added to 50 groups by others in the last day']

const view = (g: Group) => ({
  id: g.id,
  name: g.name,
  created_by: g.createdBy,
  created_at: new Date(g.createdAt).toISOString(),
  member_ids: g.memberIds,
})

/** REST: groups and their members. A membership change reaches the group cache and live sockets through `onMembership`. */
export function groupRoutes(deps: {
  store: Store
  directory: Directory
  /** Resolves once the change is an event of the stream. */
  onMembership: (groupId: number, userIds: number[], isMember: boolean) => Promise<void>
  limits: GroupLimits
  /** The user acting on a request (the token's, under AUTH=jwt); undefined when nobody is named. */
  actorOf: (request: Request) => number | undefined
}) {
  const { store, directory } = deps

  async function requireUsers(ids: number[]): Promise<void> {
    for (const id of ids) if (!(await directory.userExists(id))) throw new AppError(404, 'unknown_user', `user ${id} does not exist`)
  }
  async function requireGroup(id: number): Promise<Group> {
    const group = await store.getGroup(id)
    if (!group) throw new AppError(404, 'unknown_group', `group ${id} does not exist`)
    return group
  }

  return new Elysia({ name: 'groups' })
    .post(
      '/groups',
      async ({ body, status, request, server }) => {
        const memberIds = [...new Set(body.member_ids)]
        await requireUsers(memberIds)
        if (body.created_by !== undefined && !memberIds.includes(body.created_by))
          throw new AppError(422, 'invalid_members', 'created_by must be one of member_ids')
        const actor = deps.actorOf(request) ?? body.created_by
        deps.limits.admitCreation(actor ?? server?.requestIP(request)?.address ?? 'unknown')
        await deps.limits.admitMembers(memberIds, actor)
        const group = await store.createGroup({ name: body.name, createdBy: body.created_by ?? null, memberIds })
        directory.rememberGroup(group.id, group.memberIds)
        await deps.onMembership(group.id, group.memberIds, true)
        return status(201, view(group))
      },
      {
        body: CreateGroupBody,
        response: {
          201: described(GroupView, 'The new group'),
          403: errorResponse('AUTH=jwt: the creator is not among member_ids, or created_by is not the token\'s user', ['not_a_member', 'a group you create must include you (user 1) in member_ids'], ['forbidden', 'created_by is 2, but the token is for user 1']),
          404: errorResponse('A member does not exist', unknownUser),
          409: errorResponse('The group would be too large, or a member in too many groups', groupFull, tooManyGroups),
          422: errorResponse('created_by is not one of member_ids, or a field is invalid', ['invalid_members', 'created_by must be one of member_ids']),
          429: errorResponse('Too many groups created, or a member added to too many groups by others', ['rate_limited', 'at most 20 groups an hour may be created; retry in 60 s'], tooManyAdds),
        },
        detail: { summary: 'Create a group', description: 'Limited per user: see "Group limits" in docs/OPERATIONS.md.', tags: ['groups'] },
      },
    )
    .get('/groups/:id', async ({ params }) => view(await requireGroup(params.id)), {
      params: GroupParams,
      response: {
        200: described(GroupView, 'The group and its members'),
        403: errorResponse('AUTH=jwt: the token\'s user is not a member', notMember),
        404: errorResponse('No such group', unknownGroup),
      },
      detail: { summary: 'Get a group with its members', tags: ['groups'] },
    })
    .post(
      '/groups/:id/members',
      async ({ params, body, status, request }) => {
        const group = await requireGroup(params.id)
        await requireUsers([body.user_id])
        if (group.memberIds.includes(body.user_id))
          throw new AppError(409, 'already_a_member', `user ${body.user_id} is already a member of group ${params.id}`)
        await deps.limits.admitMembers([body.user_id], deps.actorOf(request), group.memberIds.length)
        if (!(await store.addMember(params.id, body.user_id)))
          throw new AppError(409, 'already_a_member', `user ${body.user_id} is already a member of group ${params.id}`)
        await deps.onMembership(params.id, [body.user_id], true)
        return status(201, view(await requireGroup(params.id)))
      },
      {
        params: GroupParams,
        body: AddMemberBody,
        response: {
          201: described(GroupView, 'The group with its new member'),
          403: errorResponse('AUTH=jwt: the token\'s user is not a member', notMember),
          404: errorResponse('No such group or user', unknownGroup, unknownUser),
          409: errorResponse('Already a member, the group is full, or the user is in too many groups', ['already_a_member', 'user 3 is already a member of group 1'], groupFull, tooManyGroups),
          429: errorResponse('The user was added to too many groups by others', tooManyAdds),
        },
        detail: { summary: 'Add a member', description: 'Limited per user: see "Group limits" in docs/OPERATIONS.md.', tags: ['groups'] },
      },
    )
    .delete(
      '/groups/:id/members/:user_id',
      async ({ params }) => {
        await requireGroup(params.id)
        if (!(await store.removeMember(params.id, params.user_id)))
          throw new AppError(404, 'not_a_member', `user ${params.user_id} is not a member of group ${params.id}`)
        await deps.onMembership(params.id, [params.user_id], false)
        return view(await requireGroup(params.id))
      },
      {
        params: MemberParams,
        response: {
          200: described(GroupView, 'The group without the member'),
          403: errorResponse('AUTH=jwt: not a member, or removing someone else from a group one did not create', notMember, ['forbidden', 'only the creator of group 1 may remove another member']),
          404: errorResponse('No such group, or the user is not a member', unknownGroup, ['not_a_member', 'user 3 is not a member of group 1']),
        },
        detail: { summary: 'Remove a member', description: 'A member may leave; only the creator removes someone else.', tags: ['groups'] },
      },
    )
}
