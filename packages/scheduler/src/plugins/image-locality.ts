import type { ScorePlugin } from '../framework.js';
import { normalizeImage } from '../snapshot.js';

/**
 * Hosts that already hold the request's images score higher (100 × the share held).
 * Its weight is tiny on purpose: it decides only between hosts that are otherwise tied.
 */
export const imageLocality: ScorePlugin = {
  name: 'ImageLocality',
  weight: 0.001,
  prepare({ topology: t, req }) {
    if (req.images.length === 0) return undefined;
    const held = [...new Set(req.images.map(normalizeImage))].map((img) => t.imageHosts(img));
    const [only] = held;
    if (only && held.length === 1) return (i) => 100 * (only[i] as number);
    return (i) => {
      let n = 0;
      for (const bits of held) n += bits[i] as number;
      return (100 * n) / held.length;
    };
  },
};
