import { nodeGpuContext } from './src/gpu/node.ts';
import { storageBuffer, readFloats } from './src/gpu/buffers.ts';
import { matmul } from './src/gpu/kernels/matmul.ts';
import { encode, assertShadersCompile } from './src/gpu/pipelines.ts';
import { matmulShader } from './src/gpu/kernels/matmul.ts';
const ctx = await nodeGpuContext();
const d = ctx.device;
await assertShadersCompile(d, [matmulShader]);
const M=+process.argv[2],N=+process.argv[3],K=+process.argv[4];
const A=Float32Array.from({length:M*K},(_, i)=>Math.sin(i));
const B=Float32Array.from({length:K*N},(_, i)=>Math.cos(i*0.7));
const a=storageBuffer(d,'a',A), b=storageBuffer(d,'b',B), c=storageBuffer(d,'c',M*N);
const ds = matmul(d,{M,N,K,a,b,c,splits:+process.argv[5]});
const enc=d.createCommandEncoder(); const pass=enc.beginComputePass(); encode(pass, ds); pass.end(); d.queue.submit([enc.finish()]);
const out = await readFloats(d,c,M*N);
let err=0; for(let i=0;i<M;i++)for(let j=0;j<N;j++){let s=0;for(let k=0;k<K;k++)s+=A[i*K+k]*B[k*N+j]; err=Math.max(err,Math.abs(s-out[i*N+j]));}
console.log(ctx.adapterName, 'maxerr', err, ds.map(x=>x.label));
process.exit(0);
