import { Elysia } from 'elysia'
import type { Group, Store } from '../db/store'
import { AppError, ErrorBody } from '../http/errors'
import type { GroupLimits } from '../limits/group-limits'
import type { Directory } from '../messages/directory'
import { AddMemberBody, CreateGroupBody, GroupParams, GroupView, MemberParams } from './model'

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
  onMembership: (groupId: number, userId: number, isMember: boolean) => void
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
        for (const userId of group.memberIds) deps.onMembership(group.id, userId, true)
        return status(201, view(group))
      },
      {
        body: CreateGroupBody,
        response: { 201: GroupView, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody },
        detail: { summary: 'Create a group', description: 'Limited per user: see "Group limits" in docs/OPERATIONS.md.', tags: ['groups'] },
      },
    )
    .get('/groups/:id', async ({ params }) => view(await requireGroup(params.id)), {
      params: GroupParams,
      response: { 200: GroupView, 404: ErrorBody },
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
        deps.onMembership(params.id, body.user_id, true)
        return status(201, view(await requireGroup(params.id)))
      },
      {
        params: GroupParams,
        body: AddMemberBody,
        response: { 201: GroupView, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody, 429: ErrorBody },
        detail: { summary: 'Add a member', description: 'Limited per user: see "Group limits" in docs/OPERATIONS.md.', tags: ['groups'] },
      },
    )
    .delete(
      '/groups/:id/members/:user_id',
      async ({ params }) => {
        await requireGroup(params.id)
        if (!(await store.removeMember(params.id, params.user_id)))
          throw new AppError(404, 'not_a_member', `user ${params.user_id} is not a member of group ${params.id}`)
        deps.onMembership(params.id, params.user_id, false)
        return view(await requireGroup(params.id))
      },
      { params: MemberParams, response: { 200: GroupView, 404: ErrorBody }, detail: { summary: 'Remove a member', tags: ['groups'] } },
    )
}
