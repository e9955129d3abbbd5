#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "mobilellm.h"
#include "util/gguf_writer.h"
static uint64_t S = 88172645463325252ull;
static float rnd(void){ S^=S<<13;S^=S>>7;S^=S<<17; return (float)((S>>11)*(1.0/9007199254740992.0))*2-1; }
static void put(gw_file*f,const char*name,int rows,int cols,int type,float scale){
  size_t rb=mllm_row_bytes(type,cols); uint8_t*d=malloc(rb*rows); float*r=malloc(4*cols);
  for(int i=0;i<rows;i++){for(int j=0;j<cols;j++)r[j]=rnd()*scale; mllm_quantize_row(type,r,d+rb*i,cols);}
  uint64_t ne[2]={cols,rows}; gwf_tensor(f,name,type,rows==1?1:2,ne,d,rb*rows); free(d); free(r);}
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(int argc,char**argv){
  int L=30,H=9,KV=3,D=576,F=1536,V=32000; int wt=argc>1?atoi(argv[1]):8; int nt=argc>2?atoi(argv[2]):2;
  const char*path="/tmp/mllm_bench/m.gguf";
  if(argc<=3){
  gw_file f; gwf_init(&f);
  gwf_str(&f,"general.architecture","llama");
  gwf_u32(&f,"llama.context_length",2048); gwf_u32(&f,"llama.embedding_length",D); gwf_u32(&f,"llama.block_count",L);
  gwf_u32(&f,"llama.feed_forward_length",F); gwf_u32(&f,"llama.attention.head_count",H); gwf_u32(&f,"llama.attention.head_count_kv",KV);
  const char**p=malloc(sizeof(char*)*V); char(*nm)[12]=malloc(12*V);
  for(int i=0;i<V;i++){snprintf(nm[i],12,i==0?"<unk>":"t%d",i);p[i]=nm[i];}
  gwf_arr_str(&f,"tokenizer.ggml.tokens",p,V); gwf_u32(&f,"tokenizer.ggml.unknown_token_id",0);
  put(&f,"token_embd.weight",V,D,wt,1); put(&f,"output_norm.weight",1,D,0,1);
  char n[64]; float s=1.5f/24;
  for(int b=0;b<L;b++){
#define P(x,r,c,t,sc) snprintf(n,64,"blk.%d.%s.weight",b,x); put(&f,n,r,c,t,sc);
   P("attn_norm",1,D,0,1) P("attn_q",H*64,D,wt,s) P("attn_k",KV*64,D,wt,s) P("attn_v",KV*64,D,wt,s) P("attn_output",D,H*64,wt,s)
   P("ffn_norm",1,D,0,1) P("ffn_gate",F,D,wt,s) P("ffn_up",F,D,wt,s) P("ffn_down",D,F,wt,s/1.6f)}
  gw_buf o; gwf_finish(&f,&o); gw_write(path,o.p,o.len); printf("wrote %zu MB\n",o.len>>20);}
  mllm_model_params mp; mllm_model_params_init(&mp); mp.n_threads=nt; mllm_model*m;
  if(mllm_model_load(path,&mp,&m)){printf("%s\n",mllm_last_error());return 1;}
  mllm_session*se; mllm_session_create(m,NULL,&se);
  int32_t tok[128]; for(int i=0;i<128;i++)tok[i]=(i*7919)%V;
  double t0=now(); mllm_session_eval(se,tok,64,MLLM_LOGITS_LAST); double t1=now();
  int nd=24; for(int i=0;i<nd;i++) mllm_session_eval(se,&tok[64+i],1,MLLM_LOGITS_LAST); double t2=now();
  printf("level %s threads %d: prompt 64 tok %.1f tok/s, decode %.1f tok/s (%.2f ms/tok)\n",mllm_cpu_level(),nt,64/(t1-t0),nd/(t2-t1),1e3*(t2-t1)/nd);
  mllm_session_free(se); mllm_model_free(m); return 0;}
