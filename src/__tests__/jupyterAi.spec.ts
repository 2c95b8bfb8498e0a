// jupyterAi.ts shows a JupyterLab notification: a stand-in is enough for the logic tested here.
jest.mock('@jupyterlab/apputils', () => ({ Notification: { info: jest.fn() } }));
jest.mock('../provider', () => ({ PROVIDER_ID: '@jupyter-ai-inline/provider' }));

import { Signal } from '@lumino/signaling';

import {
  enabledProviders,
  INLINE_COMPLETER,
  JUPYTER_AI_PROVIDER,
  JupyterAiBeside,
  TOLD_KEY
} from '../jupyterAi';

const OURS = '@jupyter-ai-inline/provider';

/** The Inline Completer settings as the registry gives them. */
class FakeSettings {
  constructor(public composite: any) {}
  changed = new Signal<this, void>(this);
  async set(key: string, value: any): Promise<void> {
    this.composite = { ...this.composite, [key]: value };
    this.changed.emit();
  }
}

function setup(providers: any, source: string | null = 'jupyter-ai') {
  const settings = new FakeSettings({ providers });
  const loaded: string[] = [];
  const registry = {
    load: async (id: string) => {
      loaded.push(id);
      return settings;
    }
  } as any;
  const shown: boolean[] = [];
  const told: string[] = [];
  const turnOffs: (() => void)[] = [];
  const stored = new Map<string, string>();
  const sourceChanged = new Signal<any, void>({});
  const status = { source };
  const beside = new JupyterAiBeside({
    registry,
    showsGhostText: on => shown.push(on),
    source: () => status.source,
    sourceChanged: callback => sourceChanged.connect(callback),
    storage: {
      getItem: key => stored.get(key) ?? null,
      setItem: (key, value) => void stored.set(key, value)
    },
    notify: (message, turnOff) => {
      told.push(message);
      turnOffs.push(turnOff);
    }
  });
  return { beside, settings, loaded, shown, told, turnOffs, stored, status, sourceChanged };
}

describe('enabledProviders', () => {
  it('reads which providers the Inline Completer settings enable', () => {
    expect(enabledProviders({})).toEqual({ ours: false, jupyterAi: false });
    expect(
      enabledProviders({
        providers: { [OURS]: { enabled: true }, [JUPYTER_AI_PROVIDER]: { enabled: false } }
      })
    ).toEqual({ ours: true, jupyterAi: false });
  });
});

describe('JupyterAiBeside', () => {
  it('tells the server whether this tab shows our ghost text, and follows changes', async () => {
    const { beside, settings, loaded, shown } = setup({ [OURS]: { enabled: true } });
    await beside.start();
    expect(loaded).toEqual([INLINE_COMPLETER]);
    await settings.set('providers', { [OURS]: { enabled: false } });
    expect(shown).toEqual([true, false]);
  });

  it('tells the user once when both completers ask our model, and can turn theirs off', async () => {
    const both = { [OURS]: { enabled: true }, [JUPYTER_AI_PROVIDER]: { enabled: true } };
    const { beside, settings, told, turnOffs, stored, sourceChanged } = setup(both);
    await beside.start();
    sourceChanged.emit();
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/asked once per keystroke, not twice/);
    expect(stored.get(TOLD_KEY)).toBeTruthy();
    turnOffs[0]();
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(settings.composite.providers[JUPYTER_AI_PROVIDER]).toEqual({ enabled: false });
    expect(settings.composite.providers[OURS]).toEqual({ enabled: true });

    // a reload: the browser remembers that the user was told
    const again = setup(both);
    again.stored.set(TOLD_KEY, 'earlier');
    await again.beside.start();
    expect(again.told).toEqual([]);
  });

  it('says nothing while the model comes from our settings or only one completer is on', async () => {
    const both = { [OURS]: { enabled: true }, [JUPYTER_AI_PROVIDER]: { enabled: true } };
    const ours = setup(both, 'settings');
    await ours.beside.start();
    const alone = setup({ [OURS]: { enabled: true } });
    await alone.beside.start();
    expect([...ours.told, ...alone.told]).toEqual([]);
    // the source turns to Jupyter AI's choice later: told then
    ours.status.source = 'jupyter-ai';
    ours.sourceChanged.emit();
    expect(ours.told).toHaveLength(1);
  });

  it('leaves our ghost text on when the Inline Completer settings cannot be read', async () => {
    const shown: boolean[] = [];
    const beside = new JupyterAiBeside({
      registry: { load: async () => Promise.reject(new Error('no such plugin')) } as any,
      showsGhostText: on => shown.push(on),
      source: () => null,
      sourceChanged: () => undefined,
      storage: { getItem: () => null, setItem: () => undefined }
    });
    await beside.start();
    expect(shown).toEqual([true]);
  });
});
