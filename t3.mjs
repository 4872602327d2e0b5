import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
const code = readFileSync('shaders/matmul.wgsl','utf8');
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--enable-unsafe-webgpu','--no-sandbox','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run', '--enable-features=Vulkan', '--use-angle=swiftshader'] });
import http from 'node:http';
const srv = http.createServer((q,r)=>{r.setHeader('content-type','text/html'); r.end('<html>hi</html>')}).listen(8765);
const p = await b.newPage(); await p.goto('http://127.0.0.1:8765/');
p.on('console', m => console.log('console', m.text()));
const r = await p.evaluate(async ({code, M, N, K}) => {
  const ad = await navigator.gpu.requestAdapter(); if (!ad) return 'no adapter';
  const d = await ad.requestDevice();
  const mod = d.createShaderModule({code});
  const pipe = d.createComputePipeline({layout:'auto', compute:{module:mod, entryPoint:'main'}});
  const mk = (arr) => { const buf = d.createBuffer({size: Math.max(16, arr.length*4), usage: GPUBufferUsage.STORAGE|GPUBufferUsage.COPY_SRC|GPUBufferUsage.COPY_DST}); d.queue.writeBuffer(buf,0,arr); return buf; };
  const A = Float32Array.from({length:M*K},(_, i)=>Math.sin(i)), B = Float32Array.from({length:K*N},(_, i)=>Math.cos(i*0.7));
  const a = mk(A), bb = mk(B), c = mk(new Float32Array(M*N)), dummy = mk(new Float32Array(4));
  const u = new Uint32Array(16); u.set([M,N,K,Math.ceil(K/16)*16,1,M*K,K*N,M*N]); new Float32Array(u.buffer)[8]=1;
  const ub = d.createBuffer({size:64, usage: GPUBufferUsage.UNIFORM|GPUBufferUsage.COPY_DST}); d.queue.writeBuffer(ub,0,u);
  const bg = d.createBindGroup({layout: pipe.getBindGroupLayout(0), entries:[ub,a,bb,c,dummy,dummy].map((buffer,binding)=>({binding, resource:{buffer}}))});
  const enc = d.createCommandEncoder(); const pass = enc.beginComputePass(); pass.setPipeline(pipe); pass.setBindGroup(0,bg); pass.dispatchWorkgroups(Math.ceil(N/64), Math.ceil(M/64), 1); pass.end();
  const st = d.createBuffer({size:M*N*4, usage: GPUBufferUsage.MAP_READ|GPUBufferUsage.COPY_DST}); enc.copyBufferToBuffer(c,0,st,0,M*N*4); d.queue.submit([enc.finish()]);
  await st.mapAsync(GPUMapMode.READ); const out = new Float32Array(st.getMappedRange());
  let err=0; for(let i=0;i<M;i++)for(let j=0;j<N;j++){let s=0;for(let k=0;k<K;k++)s+=A[i*K+k]*B[k*N+j]; err=Math.max(err,Math.abs(s-out[i*N+j]));}
  return (ad.info.vendor+' '+ad.info.architecture+' err '+err);
}, {code, M:130, N:70, K:333});
console.log(r); await b.close(); srv.close();
