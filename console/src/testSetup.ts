import { configure } from '@testing-library/react';

// `findBy…` and `waitFor` give up after 1 s by default, which a loaded 2-core CI
// machine can exceed while jsdom renders a room. They still fail fast on what never
// appears within 10 s; speed is measured by the benchmarks, not here.
configure({ asyncUtilTimeout: 10_000 });
