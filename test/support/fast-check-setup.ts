/**
 * Property tests run with a fixed seed, so a run of `npm test` is reproducible (and CI never
 * fails on a case it has not seen before). To explore new cases: FC_SEED=<number> npm test,
 * or FC_SEED=random; a failure prints its seed and path to replay.
 */
import fc from 'fast-check';

const requested = process.env.FC_SEED;
if (requested !== 'random') {
  fc.configureGlobal({ seed: requested === undefined ? 20_261_122 : Number(requested) });
}
