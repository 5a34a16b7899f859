import type { JsonObject } from '../stage-api.ts';
import { tableColumns } from './table-columns.ts';
import type { ReportCell, ReportSource, ReportTable } from './types.ts';

/** One optimizer variant and the resolved params of a fine-tune that used it. */
export interface VariantParams {
  variant: string;
  params: JsonObject;
}

const cell = (v: unknown): ReportCell => (v === undefined || v === null ? null : typeof v === 'number' ? v : String(v));

/** Table 1 with no search: the hyperparameters each variant's fine-tunes actually used. */
export function table1FromParams(variants: readonly VariantParams[], sources: ReportSource[]): ReportTable {
  return {
    kind: 'table',
    id: 'table-1',
    title: 'Table 1: optimizer hyperparameters used (fixed values, no search)',
    columns: tableColumns({
      variant: 'variant',
      name: 'optimizer',
      lr: 'learning rate',
      b1: 'beta1 / momentum',
      b2: 'beta2 / rho',
      wd: 'weight decay',
      alr: 'adaptive lr',
      amom: 'adaptive momentum',
      train: 'epochs x batch, trained',
    }),
    rows: variants.map(({ variant, params }) => {
      const o = params.optimizer as Record<string, unknown>;
      return {
        variant,
        name: cell(o.name),
        lr: cell(o.learning_rate),
        b1: cell(o.beta1 ?? o.momentum),
        b2: cell(o.beta2 ?? o.rho),
        wd: cell(o.weight_decay ?? 0),
        alr: o.name === 'proposed' ? String(o.adaptive_lr !== false) : null,
        amom: o.name === 'proposed' ? String(o.adaptive_momentum !== false) : null,
        train: `${String(params.epochs)} x ${String(params.batch_size)}, ${String(params.trainable)}`,
      };
    }),
    sources,
  };
}
