#!/usr/bin/env python3
"""The PyTorch side of the benchmark: what bench/suite.ts measures of our WGSL engine, in PyTorch eager fp32
(TF32 off), on the same machine, timed the same way, for the side-by-side where torch exists.

  python3 bench/torch_peer.py [--quick] [--device cuda|cpu] [--only matmul,adamw,toy,gpt2] [--attention sdpa|math] [--out FILE]

Parts (sizes as bench/suite.ts planFor() picks them for a hardware adapter; --quick: small sizes, for a CPU):
  reference  copy bandwidth (dst.copy_(src), bytes read + written), the yardstick of AdamW's row
  matmul     the products at the LoRA shapes (m = 100 rows), named as in bench/suite.ts, and square n^3
             products (cuBLAS); max relative error of each against float64
  adamw      torch.optim.AdamW (foreach, and fused where torch has it) on A (r x n) and B (n x r) with LoRA+
             groups, as the 'AdamW (A and B)' row of bench/suite.ts
  toy        one training step of the toy model of lora-math.md section 4 as src/experiments/toy/trainer.ts
             runs it in the benchmark (bench/suite.ts toyConfig: batch 100 of N_train 1000, rank 4, ReLU,
             Init[A], AdamW): gather the batch, forward, loss, the five norms (kept on the device), backward
             (autograd), AdamW step
  gpt2       one LoRA training step of GPT-2 (124M, random weights) as src/experiments/gpt2 runs it: LoRA
             (PEFT-style: base(x) + lora_B(lora_A(x)) * alpha/r, rank 8, alpha 16) on attn.c_attn, everything
             else frozen, tied LM head, mean cross-entropy, AdamW on the adapters; seq 128 x batch 4 and
             seq 512 x batch 8 (--quick: the CLI's tiny GPT-2 shapes)

Timing (bench/suite.ts measure()): one call to compile/warm up, a second to calibrate R (repetitions per sample,
so that a sample lasts about target_ms, at most 256), then `reps` samples of R repetitions each, waiting for
the device after each sample (torch.cuda.synchronize); rows report min/median/max ms per repetition.
JSON on stdout (and in --out), progress on stderr.
"""
import argparse
import json
import math
import sys
import time
from datetime import datetime, timezone

import torch
import torch.nn.functional as F

# src/cli/gpt2.ts TINY and GPT2_MODELS.gpt2 (src/models/gpt2.ts).
GPT2 = dict(n_embd=768, n_layer=12, n_head=12, vocab_size=50257, n_positions=1024, n_inner=3072, eps=1e-5)
TINY = dict(n_embd=32, n_layer=2, n_head=4, vocab_size=320, n_positions=64, n_inner=128, eps=1e-5)


def plan_for(quick: bool) -> dict:
    """bench/suite.ts planFor(): the hardware plan, or the software-quick plan for a CPU."""
    if quick:
        return dict(m=100, matmulN=[256], ranks=[4], squareN=[256], loraN=[256], loraRank=4, toyN=[256], reps=3, targetMs=60,
                    gpt2=[dict(model='tiny', seq=32, batch=2)], gpt2Reps=3)
    return dict(m=100, matmulN=[256, 512, 1024, 2048, 4096], ranks=[4, 32], squareN=[1024, 2048, 4096], loraN=[256, 1024, 4096],
                loraRank=4, toyN=[256, 1024, 4096], reps=10, targetMs=40,
                gpt2=[dict(model='gpt2', seq=128, batch=4), dict(model='gpt2', seq=512, batch=8)], gpt2Reps=5)


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def stat(samples: list) -> dict:
    """bench/stats.ts stat()."""
    s = sorted(samples)
    mid = len(s) // 2
    median = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    return dict(min=s[0], median=median, max=s[-1], samples=samples)


class Timer:
    def __init__(self, device: torch.device, plan: dict):
        self.device = device
        self.plan = plan

    def sync(self) -> None:
        if self.device.type == 'cuda':
            torch.cuda.synchronize(self.device)

    def measure(self, run, target_ms: float = None, reps: int = None) -> dict:
        """run(R) does the work R times; returns the Stat of ms per repetition."""
        target_ms = target_ms or self.plan['targetMs']
        reps = reps or self.plan['reps']
        run(1)  # compile + first use
        self.sync()
        t0 = time.perf_counter()
        run(1)
        self.sync()
        t1 = (time.perf_counter() - t0) * 1000
        R = max(1, min(256, round(target_ms / max(t1, 1e-3))))
        samples = []
        for _ in range(reps):
            t0 = time.perf_counter()
            run(R)
            self.sync()
            samples.append((time.perf_counter() - t0) * 1000 / R)
        return stat(samples)


def uniform(shape, gen: torch.Generator, device) -> torch.Tensor:
    """Entries in [-1, 1), like bench/suite.ts rand()."""
    return (torch.rand(shape, generator=gen) * 2 - 1).to(device)


def normal(shape, std: float, gen: torch.Generator, device) -> torch.Tensor:
    return (torch.randn(shape, generator=gen) * std).to(device)


def reference(t: Timer, quick: bool) -> dict:
    nbytes = (32 if quick else 256) << 20
    src = torch.rand(nbytes // 4, device=t.device)
    dst = torch.empty_like(src)

    def run(reps):
        for _ in range(reps):
            dst.copy_(src)

    ms = t.measure(run)
    gbs = stat([2 * nbytes / x / 1e6 for x in ms['samples']])
    log(f"reference: copy {gbs['median']:.2f} GB/s ({nbytes >> 20} MiB)")
    return dict(copyGBs=gbs, copyBytes=nbytes)


def matmul_shapes(plan: dict) -> list:
    """bench/suite.ts matmulRows() shapes (same names), then the square products."""
    m = plan['m']
    shapes = []
    for n in plan['matmulN']:
        shapes.append(dict(name='frozen X W0^T', M=m, N=n, K=n, transB=True))
        for r in plan['ranks']:
            shapes.append(dict(name=f'Z_A = X A^T (r={r})', M=m, N=r, K=n, transB=True))
            shapes.append(dict(name=f'dB = G^T Z_A (r={r})', M=n, N=r, K=m, transA=True))
            shapes.append(dict(name=f'U = G B (r={r})', M=m, N=r, K=n))
            shapes.append(dict(name=f'dA = U^T X (r={r})', M=r, N=n, K=m, transA=True))
    for n in plan['squareN']:
        shapes.append(dict(name='square', M=n, N=n, K=n))
    return shapes


def matmul_rows(t: Timer, plan: dict, gen: torch.Generator) -> list:
    rows = []
    for s in matmul_shapes(plan):
        M, N, K = s['M'], s['N'], s['K']
        ta, tb = s.get('transA', False), s.get('transB', False)
        # Stored as bench/suite.ts stores them: A is K x M when transposed, B is N x K when transposed.
        a = uniform((K, M) if ta else (M, K), gen, t.device)
        b = uniform((N, K) if tb else (K, N), gen, t.device)
        opa, opb = (a.t() if ta else a), (b.t() if tb else b)
        c = torch.empty((M, N), device=t.device)

        def run(reps, opa=opa, opb=opb, c=c):
            for _ in range(reps):
                torch.mm(opa, opb, out=c)

        ms = t.measure(run)
        want = opa.double() @ opb.double()
        err = ((c.double() - want).abs().max() / want.abs().max().clamp_min(1e-30)).item()
        flops = 2 * M * N * K
        op = ('T' if ta else 'N') + ('T' if tb else 'N')
        rows.append(dict(name=s['name'], M=M, N=N, K=K, op=op, flops=flops, ms=ms, gflops=flops / ms['median'] / 1e6, err=err))
        log(f"matmul {s['name']} {M}x{N}x{K} {op}: {ms['median']:.4f} ms, {flops / ms['median'] / 1e6:.1f} GFLOP/s, err {err:.1e}")
    return rows


def lora_plus_adamw(A, B, eta: float, lam: float, wd: float, betas=(0.9, 0.999), eps=1e-8, impl: str = 'foreach'):
    """lora-math.md section 3: lr_A = eta, lr_B = lambda * eta (PEFT's create_loraplus_optimizer groups)."""
    groups = [dict(params=A, lr=eta, weight_decay=wd), dict(params=B, lr=lam * eta, weight_decay=wd)]
    kw = dict(fused=True) if impl == 'fused' else dict(foreach=True) if impl == 'foreach' else {}
    return torch.optim.AdamW(groups, betas=betas, eps=eps, **kw)


def adamw_impls(device: torch.device) -> list:
    impls = ['foreach']
    try:
        p = torch.zeros(1, device=device, requires_grad=True)
        torch.optim.AdamW([p], fused=True)
        impls.append('fused')
    except (TypeError, RuntimeError, ValueError):
        pass
    return impls


def adamw_rows(t: Timer, plan: dict, ref: dict, gen: torch.Generator) -> list:
    rows = []
    r = plan['loraRank']
    for n in plan['loraN']:
        for impl in adamw_impls(t.device):
            A = torch.nn.Parameter(uniform((r, n), gen, t.device))
            B = torch.nn.Parameter(uniform((n, r), gen, t.device))
            A.grad, B.grad = uniform((r, n), gen, t.device), uniform((n, r), gen, t.device)
            opt = lora_plus_adamw([A], [B], 1e-3, 1.0, 0.0, impl=impl)

            def run(reps, opt=opt):
                for _ in range(reps):
                    opt.step()

            ms = t.measure(run)
            nbytes = 28 * 2 * r * n  # read theta, grad, m, v; write theta, m, v (as bench/suite.ts counts)
            gbs = nbytes / ms['median'] / 1e6
            pct = 100 * gbs / ref['copyGBs']['median'] if ref else None
            rows.append(dict(name='AdamW (A and B)', n=n, rank=r, impl=impl, bytes=nbytes, ms=ms, gbs=gbs, pctOfCopy=pct))
            log(f"adamw n={n} r={r} ({impl}): {ms['median']:.4f} ms, {gbs:.2f} GB/s" + (f" ({pct:.0f}% of copy)" if pct is not None else ''))
    return rows


class ToyStep:
    """The toy teacher-student step (lora-math.md section 4; src/experiments/toy/trainer.ts) in PyTorch eager,
    at bench/suite.ts toyConfig(n, m): d 16, rank 4, alpha 4 (s = 1), ReLU, N_train 1000, batch m, Init[A]
    Gaussian, AdamW (eta 1e-3, lambda 1, wd 0). Data are drawn with torch's generator (the timing does not
    depend on the values; the WGSL side draws them from its own named streams)."""

    def __init__(self, n: int, m: int, device: torch.device, gen: torch.Generator, d: int = 16, rank: int = 4, alpha: float = 4.0,
                 teacher_rank: int = 2, n_train: int = 1000, eta: float = 1e-3, lam: float = 1.0):
        self.n, self.m, self.N, self.device = n, m, n_train, device
        self.s = alpha / rank
        X = normal((n_train, d), 1.0, gen, device)                  # x ~ N(0, I_d)            N x d
        W_in = normal((n, d), 1 / math.sqrt(d), gen, device)        # frozen                   n x d
        self.W0 = normal((n, n), 1 / math.sqrt(n), gen, device)     # frozen, the adapted layer n x n
        self.W_out = normal((1, n), 1 / math.sqrt(n), gen, device)  # frozen                   1 x n
        U = normal((n, teacher_rank), 1 / math.sqrt(teacher_rank), gen, device)
        V = normal((n, teacher_rank), 1 / math.sqrt(n), gen, device)
        with torch.no_grad():
            self.H1 = F.relu(X @ W_in.t())                                              # N x n, once (frozen)
            self.Y = F.relu(self.H1 @ (self.W0 + U @ V.t()).t()) @ self.W_out.t()      # N x 1, the teacher
        self.A = torch.nn.Parameter(normal((rank, n), 1 / math.sqrt(n), gen, device))  # Init[A]: A ~ N(0, 1/n)
        self.B = torch.nn.Parameter(torch.zeros((n, rank), device=device))            #          B = 0
        self.opt = lora_plus_adamw([self.A], [self.B], eta, lam, 0.0)
        self.metrics = torch.zeros((256, 6), device=device)  # loss, ||Z_A||, ||Z_B||, ||A||, ||B||, ||s B A|| (a ring)
        self.order_gen = torch.Generator(device=device).manual_seed(1)
        self.steps_per_epoch = n_train // m
        self.step_count = 0
        self.order = None

    def step(self) -> None:
        m, s = self.m, self.s
        if self.step_count % self.steps_per_epoch == 0:
            # A fresh order per epoch, drawn on the device: no host round trip in the loop (ours writes it
            # into the queue once per epoch, src/experiments/toy/epochOrder.ts).
            self.order = torch.randperm(self.N, generator=self.order_gen, device=self.device)
        offset = (self.step_count % self.steps_per_epoch) * m
        idx = self.order[offset:offset + m]
        h = self.H1.index_select(0, idx)                         # m x n
        y_star = self.Y.index_select(0, idx)                     # m x 1
        z_a = h @ self.A.t()                                     # m x r
        p2 = h @ self.W0.t() + s * (z_a @ self.B.t())            # m x n
        y = F.relu(p2) @ self.W_out.t()                          # m x 1
        residual = y - y_star
        loss = (residual * residual).sum() / (2 * m)
        with torch.no_grad():  # coordinate RMS norms before the update, from r x r Gram matrices (src/lora/norms.ts)
            r = self.A.shape[0]
            btb = self.B.t() @ self.B
            zz = z_a.t() @ z_a
            aat = self.A @ self.A.t()
            norms = torch.stack([
                loss.detach(),
                (zz.trace() / (m * r)).sqrt(),
                (s * s * (btb * zz).sum() / (m * self.n)).clamp_min(0).sqrt(),
                (aat.trace() / (r * self.n)).sqrt(),
                (btb.trace() / (self.n * r)).sqrt(),
                (s * s * (btb * aat).sum() / (self.n * self.n)).clamp_min(0).sqrt(),
            ])
            self.metrics[self.step_count % 256].copy_(norms)
            if self.step_count == 0:
                self.first_loss = norms[0].clone()
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.step_count += 1

    def last_loss(self) -> float:
        return self.metrics[(self.step_count - 1) % 256, 0].item()


def toy_rows(t: Timer, plan: dict, gen: torch.Generator) -> list:
    rows = []
    for n in plan['toyN']:
        toy = ToyStep(n, plan['m'], t.device, gen)

        def run(steps, toy=toy):
            for _ in range(steps):
                toy.step()

        ms = t.measure(run, target_ms=plan['targetMs'] * 4)  # as bench/suite.ts toyRows()
        loss = toy.last_loss()
        rows.append(dict(n=n, rank=4, batch=plan['m'], ms=ms, stepsPerSec=1000 / ms['median'], firstLoss=toy.first_loss.item(), loss=loss,
                         steps=toy.step_count))
        log(f"toy step n={n}: {ms['median']:.3f} ms/step ({1000 / ms['median']:.1f} steps/s), loss {loss:.4g} after {toy.step_count} steps")
        del toy
    return rows


class Gpt2LoraStep:
    """One LoRA training step of GPT-2 (src/experiments/gpt2/graph.ts), written with plain torch the way
    transformers' GPT2 + PEFT's LoRA compute it: Conv1D = addmm(b, x, W) with W [in, out]; the adapted
    module adds lora_B(lora_A(x)) * alpha/r (dropout 0); GELU (tanh); causal attention; tied LM head;
    mean cross-entropy over B*T next-token targets. Frozen weights random (N(0, 0.02) as GPT-2's init);
    A kaiming-uniform U(-1/sqrt(in), 1/sqrt(in)), B = 0 (PEFT's default, the CLI's --init A --init-dist
    uniform); AdamW on the adapters (lr 5e-4, lambda 1, wd 0)."""

    def __init__(self, cfg: dict, seq: int, batch: int, device: torch.device, gen: torch.Generator, rank: int = 8, alpha: float = 16.0,
                 targets=('attn.c_attn',), attention: str = 'sdpa', eta: float = 5e-4, lam: float = 1.0, token_batches: int = 4):
        C, L, V, P, Fi = cfg['n_embd'], cfg['n_layer'], cfg['vocab_size'], cfg['n_positions'], cfg['n_inner']
        self.cfg, self.seq, self.batch, self.device = cfg, seq, batch, device
        self.scale = alpha / rank
        self.attention = attention
        w = lambda *shape: normal(shape, 0.02, gen, device)  # noqa: E731
        ones, zeros = (lambda k: torch.ones(k, device=device)), (lambda k: torch.zeros(k, device=device))
        self.wte, self.wpe = w(V, C), normal((P, C), 0.01, gen, device)
        dims = {'attn.c_attn': (C, 3 * C), 'attn.c_proj': (C, C), 'mlp.c_fc': (C, Fi), 'mlp.c_proj': (Fi, C)}
        self.blocks = []
        lora_a, lora_b = [], []
        for _ in range(L):
            blk = dict(ln1=(ones(C), zeros(C)), ln2=(ones(C), zeros(C)), conv={}, lora={})
            for t, (i, o) in dims.items():
                blk['conv'][t] = (w(i, o), zeros(o))
                if t in targets:
                    bound = 1 / math.sqrt(i)
                    A = torch.nn.Parameter(((torch.rand((rank, i), generator=gen) * 2 - 1) * bound).to(device))  # lora_A.weight r x in
                    B = torch.nn.Parameter(torch.zeros((o, rank), device=device))                             # lora_B.weight out x r
                    blk['lora'][t] = (A, B)
                    lora_a.append(A)
                    lora_b.append(B)
            self.blocks.append(blk)
        self.lnf = (ones(C), zeros(C))
        self.params = lora_a + lora_b
        self.opt = lora_plus_adamw(lora_a, lora_b, eta, lam, 0.0)
        # A few batches of B x (T + 1) token ids, already on the device (ours keeps the tokens on the GPU too).
        self.tokens = [torch.randint(0, V, (batch, seq + 1), generator=gen).to(device) for _ in range(token_batches)]
        self.step_count = 0
        self.last = None

    def conv1d(self, blk: dict, t: str, x: torch.Tensor) -> torch.Tensor:
        W, b = blk['conv'][t]
        out = torch.addmm(b, x.reshape(-1, x.shape[-1]), W).view(*x.shape[:-1], W.shape[1])
        if t in blk['lora']:
            A, B = blk['lora'][t]
            out = out + F.linear(F.linear(x, A), B) * self.scale
        return out

    def attend(self, q, k, v) -> torch.Tensor:
        if self.attention == 'sdpa':
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        T, D = q.shape[-2], q.shape[-1]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D)
        mask = torch.ones((T, T), dtype=torch.bool, device=q.device).tril()
        return torch.softmax(att.masked_fill(~mask, float('-inf')), dim=-1) @ v

    def loss(self, ids: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        C, H, eps = cfg['n_embd'], cfg['n_head'], cfg['eps']
        Bsz, T = ids.shape[0], ids.shape[1] - 1
        inputs, targets = ids[:, :-1], ids[:, 1:]
        x = self.wte[inputs] + self.wpe[:T]                                           # B x T x C
        for blk in self.blocks:
            ln1 = F.layer_norm(x, (C,), *blk['ln1'], eps)
            q, k, v = self.conv1d(blk, 'attn.c_attn', ln1).split(C, dim=2)            # B x T x C each
            heads = lambda z: z.view(Bsz, T, H, C // H).transpose(1, 2)                # noqa: E731  B x H x T x D
            att = self.attend(heads(q), heads(k), heads(v)).transpose(1, 2).reshape(Bsz, T, C)
            x = x + self.conv1d(blk, 'attn.c_proj', att)
            ln2 = F.layer_norm(x, (C,), *blk['ln2'], eps)
            x = x + self.conv1d(blk, 'mlp.c_proj', F.gelu(self.conv1d(blk, 'mlp.c_fc', ln2), approximate='tanh'))
        lnf = F.layer_norm(x, (C,), *self.lnf, eps)
        logits = lnf @ self.wte.t()                                                   # B x T x V (tied head)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))

    def step(self) -> None:
        loss = self.loss(self.tokens[self.step_count % len(self.tokens)])
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.last = loss.detach()
        self.step_count += 1


def gpt2_rows(t: Timer, plan: dict, gen: torch.Generator, attention: str) -> list:
    rows = []
    for run_cfg in plan['gpt2']:
        cfg = GPT2 if run_cfg['model'] == 'gpt2' else TINY
        seq, batch = run_cfg['seq'], run_cfg['batch']
        if t.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(t.device)
        model = Gpt2LoraStep(cfg, seq, batch, t.device, gen, attention=attention)

        def run(steps, model=model):
            for _ in range(steps):
                model.step()

        ms = t.measure(run, target_ms=plan['targetMs'] * 4, reps=plan['gpt2Reps'])
        loss = model.last.item()
        sec = ms['median'] / 1000
        row = dict(model=run_cfg['model'], seq=seq, batch=batch, rank=8, alpha=16, targets=['attn.c_attn'], attention=attention,
                   ms=ms, secondsPerStep=sec, tokensPerSecond=batch * seq / sec, loss=loss, steps=model.step_count)
        if t.device.type == 'cuda':
            row['peakMemoryBytes'] = torch.cuda.max_memory_allocated(t.device)
        rows.append(row)
        log(f"gpt2 {run_cfg['model']} seq {seq} x batch {batch} ({attention}): {ms['median']:.2f} ms/step, {batch * seq / sec:.0f} tokens/s, loss {loss:.4f}")
        del model
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--quick', action='store_true', help='small sizes (for a CPU)')
    p.add_argument('--device', choices=['cuda', 'cpu'], help='default: cuda when available, else cpu')
    p.add_argument('--only', help='comma list of matmul,adamw,toy,gpt2 (the copy reference always runs)')
    p.add_argument('--attention', choices=['sdpa', 'math'], default='sdpa',
                   help="GPT-2 attention: F.scaled_dot_product_attention (transformers' default) or the explicit softmax")
    p.add_argument('--out', help='also write the JSON here')
    args = p.parse_args(argv)
    parts = ['matmul', 'adamw', 'toy', 'gpt2']
    only = parts if not args.only else [x for x in args.only.split(',') if x]
    bad = [x for x in only if x not in parts]
    if bad:
        p.error(f"--only: unknown part {', '.join(bad)} (choose from {', '.join(parts)})")
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and not torch.cuda.is_available():
        p.error('--device cuda: torch sees no CUDA device')
    if device.type == 'cpu' and not args.quick and not args.device:
        p.error('no CUDA device: the full sizes are for a GPU; use --quick (or --device cpu to insist)')
    attention = args.attention
    if attention == 'sdpa' and not hasattr(F, 'scaled_dot_product_attention'):
        log(f'torch {torch.__version__} has no scaled_dot_product_attention: GPT-2 attention is the explicit softmax')
        attention = 'math'

    # fp32 as fp32: no TF32 in matmuls or convolutions.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision('highest')

    plan = plan_for(args.quick)
    t = Timer(device, plan)
    gen = torch.Generator().manual_seed(1)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else f'cpu ({torch.get_num_threads()} threads)'
    log(f'torch {torch.__version__} on {name}; fp32, TF32 off; {plan["reps"]} samples after warm-up')
    t0 = time.perf_counter()
    out = dict(format='lora-playground-torch-peer', version=1, date=datetime.now(timezone.utc).isoformat(), torch=torch.__version__,
               cuda=torch.version.cuda, device=name, tf32=False, quick=args.quick, plan=plan)
    errors = {}
    ref = None
    try:
        ref = reference(t, args.quick)
        out['reference'] = ref
    except Exception as e:  # noqa: BLE001  one failing part must not lose the others
        errors['reference'] = repr(e)
    runners = dict(matmul=lambda: matmul_rows(t, plan, gen), adamw=lambda: adamw_rows(t, plan, ref, gen),
                   toy=lambda: toy_rows(t, plan, gen), gpt2=lambda: gpt2_rows(t, plan, gen, attention))
    for part in only:
        try:
            out[part] = runners[part]()
        except Exception as e:  # noqa: BLE001
            errors[part] = repr(e)
            log(f'{part} failed: {e!r}')
        if device.type == 'cuda':
            torch.cuda.empty_cache()
    out['errors'] = errors
    out['seconds'] = time.perf_counter() - t0
    text = json.dumps(out)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    print(text)
    log(f"done in {out['seconds']:.1f} s" + (f"; failed: {', '.join(errors)}" if errors else ''))
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
