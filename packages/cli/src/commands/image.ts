/**
 * `wharf image ls|inspect|rm|tag|push`: the images of the tenant in the platform
 * registry. `push` uploads a `docker save` archive through wharf-server, sending only
 * the layers the registry lacks (image-archive.ts), with a progress bar.
 */
import { Argument, InvalidArgumentError, Option, type Command } from 'commander';
import { ArchiveError, DEFAULT_TENANT, IMAGE_TAG_PATTERN, WharfError, archiveName, formatBytes, parseImageReference, repositoryTenant, type ImageUse } from '@wharf/types';
import type { Context } from '../context.js';
import { CliError, plural } from '../errors.js';
import { describeImage, renderImages, shortDigest, uploadBar, useRows, USE_COLUMNS } from '../format/images.js';
import { outputOption, serialize, type OutputFormat } from '../format/output.js';
import { renderTable } from '../format/table.js';
import { examples } from './common.js';
import { archiveLayers, readLocalArchive, selectUpload, uploadStream } from './image-archive.js';

/** An image within the tenant: `NAME`, `NAME:TAG`. */
export interface ImageName {
  name: string;
  tag?: string;
}

/** `web`, `web:1`, `team/api:2` — no registry, no digest (the tenant is --tenant's). */
export function parseImageName(text: string): ImageName {
  const ref = parseImageReference(text.trim());
  const example = 'expected NAME or NAME:TAG within the tenant, e.g. web:1';
  if (ref.registry) throw new InvalidArgumentError(`"${text}" names a registry (${ref.registry}); ${example} (the tenant is --tenant's)`);
  if (ref.digest) throw new InvalidArgumentError(`"${text}" has a digest; ${example}`);
  if (!repositoryTenant(`${DEFAULT_TENANT}/${ref.repository}`)) {
    throw new InvalidArgumentError(`"${ref.repository}" is not an image name (lowercase letters and digits, with ".", "_", "-" or "/" between them); ${example}`);
  }
  if (ref.tag !== undefined && !new RegExp(IMAGE_TAG_PATTERN).test(ref.tag)) throw new InvalidArgumentError(`"${ref.tag}" is not a tag (letters, digits, "_", "." and "-", at most 128)`);
  return { name: ref.repository, ...(ref.tag !== undefined ? { tag: ref.tag } : {}) };
}

const imageArgument = (description = 'the image: NAME or NAME:TAG within the tenant') => new Argument('<image>', description).argParser(parseImageName);
const textOutput = () => new Option('-o, --output <format>', 'output format').choices(['text', 'json', 'yaml']).default('text');

function isUse(u: unknown): u is ImageUse {
  const x = u as Partial<ImageUse> | null;
  return typeof x === 'object' && x !== null && typeof x.appkey === 'string' && typeof x.id === 'string' && typeof x.image === 'string';
}

/** IMAGE_IN_USE → the message and a table of the sets using the image. */
export function explainImageInUse(err: unknown): unknown {
  if (!(err instanceof WharfError) || err.code !== 'IMAGE_IN_USE') return err;
  const raw = err.details?.sets;
  const uses = Array.isArray(raw) ? raw.filter(isUse) : [];
  return new CliError(err.message, uses.length > 0 ? renderTable(USE_COLUMNS, useRows(uses), { indent: '  ' }).split('\n') : []);
}

/** Percent steps at which a non-interactive progress prints a line. */
const PROGRESS_STEP = 5;

export function registerImage(program: Command, ctx: Context): void {
  const image = program
    .command('image')
    .summary("manage the tenant's images in the platform registry")
    .description(
      "The tenant's images in the platform registry (<registry>/<tenant>/<name>:<tag>): list them with their sizes, who pushed " +
        'them and which sets use them, inspect their layers, remove or tag them, and push a "docker save" archive without a ' +
        'registry client. Pushing with docker works too: docker login <registry> with a Wharf token as the password.',
    )
    .addHelpText(
      'after',
      examples([
        ['wharf image ls', 'every image of the tenant'],
        ['wharf image push web.tar web:1', 'upload a docker save archive, only the layers the registry lacks'],
        ['wharf image inspect web:1', 'the layers, platform and users of an image'],
        ['wharf image rm web:1', 'remove a tag no set uses'],
      ]),
    );

  image
    .command('ls')
    .alias('list')
    .summary('list images')
    .description('List the tenant\'s images, one row per tag: NAME, TAG, DIGEST, SIZE (config and layers), PUSHED (how long ago), BY (the token that pushed it), SETS (how many use it); -o wide adds the IMAGE reference and the sets.')
    .addOption(outputOption())
    .addHelpText('after', examples([['wharf image ls', 'a table of every tag'], ['wharf image ls -o wide', 'with full references and the sets using each'], ['wharf --tenant team-a image ls -o json', 'the API objects of another tenant']]))
    .action(async (opts: { output: OutputFormat }) => {
      const repos = await ctx.client().listImages();
      if (opts.output === 'json' || opts.output === 'yaml') return ctx.out(await serialize(repos, opts.output));
      if (repos.length === 0) return ctx.note('No images (push one with "wharf image push FILE.tar NAME:TAG" or docker push).');
      ctx.out(renderImages(repos, opts.output === 'wide', ctx.clock.now()));
    });

  image
    .command('inspect')
    .summary('show an image: tags, sets using it, layers')
    .description('Show a repository (or with :TAG one tag): its reference, visibility and size, its tags with who pushed them when, the sets using it, and each manifest with its platform, config and layers.')
    .addArgument(imageArgument())
    .addOption(textOutput())
    .addHelpText('after', examples([['wharf image inspect web', 'every tag of web'], ['wharf image inspect web:1 -o json', 'the API object']]))
    .action(async (ref: ImageName, opts: { output: 'text' | 'json' | 'yaml' }) => {
      const d = await ctx.client().getImage(ref.name);
      if (ref.tag !== undefined && !d.tags.some((t) => t.tag === ref.tag)) throw new CliError(`${d.repository} has no tag "${ref.tag}" (it has ${d.tags.map((t) => t.tag).join(', ')})`);
      ctx.out(opts.output === 'text' ? describeImage(d, ref.tag, ctx.clock.now()) : await serialize(d, opts.output));
    });

  image
    .command('rm')
    .alias('delete')
    .summary('remove a tag, or a whole repository')
    .description('Remove NAME:TAG, or every tag of NAME. Refused while sets use it; the sets are listed. Layers no other image uses are freed at the next registry garbage collection.')
    .addArgument(imageArgument('NAME:TAG (one tag) or NAME (every tag)'))
    .addHelpText('after', examples([['wharf image rm web:1', 'remove one tag'], ['wharf image rm web', 'remove every tag of web']]))
    .action(async (ref: ImageName) => {
      let r;
      try {
        r = await ctx.client().deleteImage(ref.name, ref.tag);
      } catch (err) {
        throw explainImageInUse(err);
      }
      const what = ref.tag !== undefined ? `tag ${ref.name}:${ref.tag}` : `${ref.name} (${plural(r.tags.length, 'tag')}: ${r.tags.join(', ')})`;
      ctx.out(`removed ${what}; its layers go at the next registry garbage collection unless another image uses them`);
    });

  image
    .command('tag')
    .summary('point a tag at an image')
    .description('Make TARGET (NAME:TAG, default tag latest) name the image SOURCE names (NAME:TAG). Both are in the tenant; layers are shared, not copied.')
    .addArgument(imageArgument('SOURCE: NAME:TAG'))
    .addArgument(imageArgument('TARGET: NAME:TAG'))
    .addHelpText('after', examples([['wharf image tag web:1 web:stable', 'another tag for the same image'], ['wharf image tag web:1 web-prod:1', 'the same image in another repository']]))
    .action(async (source: ImageName, target: ImageName) => {
      const tag = target.tag ?? 'latest';
      const t = await ctx.client().tagImage(target.name, tag, `${source.name}:${source.tag ?? 'latest'}`);
      ctx.out(`tagged ${target.name}:${tag} → ${shortDigest(t.digest)} (${formatBytes(t.size)})`);
    });

  image
    .command('push')
    .summary('upload a docker save archive')
    .description(
      'Upload a "docker save" archive (Docker\'s layout or the OCI layout) to the platform registry through wharf-server, as ' +
        'NAME:TAG of the tenant (default: the name in the archive). Layers the registry already has are not sent. Prints the ' +
        'image reference to use in a set spec.',
    )
    .argument('<file>', 'the archive, e.g. from "docker save web:1 -o web.tar"')
    .addArgument(new Argument('[image]', 'NAME or NAME:TAG within the tenant (default: the name the archive gives its image)').argParser(parseImageName))
    .addOption(textOutput())
    .addHelpText('after', examples([
      ['docker save web:1 -o web.tar && wharf image push web.tar', 'push as web:1'],
      ['wharf image push web.tar team/web:2', 'push under another name'],
      ['wharf image push web.tar -o json', 'the result: each layer uploaded or skipped, bytes sent'],
    ]))
    .action(async (file: string, given: ImageName | undefined, opts: { output: 'text' | 'json' | 'yaml' }) => {
      let archive;
      try {
        archive = await readLocalArchive(file);
      } catch (err) {
        if (err instanceof ArchiveError) throw new CliError(`${file}: ${err.message}`);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${file}: no such file`);
        throw err;
      }
      const named = archive.image.repoTags[0] ? archiveName(archive.image.repoTags[0]) : undefined;
      const name = given?.name ?? named?.name;
      if (!name) throw new CliError(`${file} does not name its image; give NAME:TAG (e.g. wharf image push ${file} web:1)`);
      const tag = given?.tag ?? (given ? 'latest' : named?.tag ?? 'latest');
      const client = ctx.client();
      const layers = archiveLayers(archive);
      const plan = await client.planImageUpload(name, layers.map((l) => l.digest));
      const present = new Set(plan.present);
      const selection = selectUpload(archive, present);
      for (const l of layers.filter((x) => present.has(x.digest))) ctx.note(`skipped layer ${shortDigest(l.digest)} (${formatBytes(l.size)}): the registry has it`);
      const progress = await ctx.progress();
      let shown = -1;
      const sent = (bytes: number) => {
        const step = Math.floor((bytes / selection.length) * (100 / PROGRESS_STEP));
        if (step !== shown) progress.update(`pushing ${name}:${tag} ${uploadBar(bytes, selection.length)}`);
        shown = step;
      };
      let r;
      try {
        r = await client.uploadImage({ name, tag, body: uploadStream(file, selection, sent), length: selection.length });
      } catch (err) {
        progress.fail(`pushing ${name}:${tag} failed`);
        throw err;
      }
      const actions = new Map(r.layers.map((l) => [l.digest, l.action]));
      const uploaded = [...actions.values()].filter((a) => a === 'uploaded').length;
      progress.succeed(`pushed ${name}:${tag}: sent ${formatBytes(r.received)} of ${formatBytes(archive.size)}, ${plural(uploaded, 'layer')} uploaded, ${actions.size - uploaded} skipped`);
      ctx.out(opts.output === 'text' ? `${r.image} ${r.digest} (${formatBytes(r.size)})` : await serialize(r, opts.output));
    });
}
