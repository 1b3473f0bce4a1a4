/**
 * Scopes of the registry token request (Distribution's grammar):
 *   scope         := resourcescope [ ' ' resourcescope ]*
 *   resourcescope := type [ '(' class ')' ] ':' name ':' action [ ',' action ]*
 * The name may itself hold ':' (a registry host with a port), so the type ends at the
 * first ':' and the actions start after the last.
 */
import { WharfError } from '@wharf/types';

export interface ResourceScope {
  type: string;
  class?: string;
  name: string;
  actions: string[];
}

const TYPE = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/;
const ACTION = /^(?:[a-z]+|\*)$/;

export function parseScope(text: string): ResourceScope {
  const first = text.indexOf(':');
  const last = text.lastIndexOf(':');
  const bad = (why: string) => new WharfError('BAD_REQUEST', `scope "${text}" ${why} (expected TYPE:NAME:ACTION[,ACTION…], e.g. repository:default/app:pull,push)`);
  if (first <= 0 || last === first) throw bad('has not three parts');
  const type = TYPE.exec(text.slice(0, first));
  if (!type) throw bad('has no valid resource type');
  const name = text.slice(first + 1, last);
  if (!name) throw bad('has no resource name');
  const actions = text.slice(last + 1).split(',');
  if (!actions.every((a) => ACTION.test(a))) throw bad('has an invalid action');
  return { type: type[1]!, ...(type[2] ? { class: type[2] } : {}), name, actions: [...new Set(actions)] };
}

/** Every `scope` parameter (repeated, or several in one separated by spaces). */
export function parseScopes(values: string | string[] | undefined): ResourceScope[] {
  const all = (values === undefined ? [] : Array.isArray(values) ? values : [values]).flatMap((v) => v.split(' ')).filter(Boolean);
  return all.map(parseScope);
}
