"""Fits the weights of TokenEstimator's character-class model (Sources/MultiProdigyRouting/TokenTally.swift).

This is the Python twin of the Swift tally used to choose the features and fit their weights by
non-negative least squares on relative error, against the geometric mean of the cl100k_base and
o200k_base counts (the estimate aims between the two tokenizers). Data: the hand-written corpus in
corpus/ plus, at half weight, 3000-character slices of 40 Python standard-library modules and the
Debian common licenses (English code and prose that are on any Debian machine). Prints the weights,
in-sample and leave-one-out errors; copy the weights, in thousandths, into TokenTally.swift.

    TIKTOKEN_CACHE_DIR=/path/to/encodings python bench/tokens/calibrate.py [-v]

The Swift port differs in small details (tabs, runs started by escapes), so the reported errors
come from measure.py, which runs the Swift code itself.
"""

import glob
import math
import os
import random
import sys

import numpy as np
import tiktoken
from scipy.optimize import nnls

enc = {n: tiktoken.get_encoding(n) for n in ['cl100k_base','o200k_base']}

def cls(c):
    o=ord(c)
    if o<128:
        if 'a'<=c<='z': return 'l'
        if 'A'<=c<='Z': return 'u'
        if '0'<=c<='9': return 'D'
        if c==' ': return 'SP'
        if c in '\n\r': return 'NL'
        if c in '\t\x0b\x0c': return 'WS'
        if o<32 or o==127: return 'WS'
        return 'P'
    if 0xC0<=o<=0x24F and o not in (0xD7,0xF7) or 0x1E00<=o<=0x1EFF: return 'X'
    if 0x300<=o<=0x36F: return 'X'
    if 0x370<=o<=0x3FF: return 'greek'
    if 0x400<=o<=0x52F: return 'cyr'
    if 0x530<=o<=0x6FF or 0x750<=o<=0x77F: return 'arab'   # armenian, hebrew, arabic
    if 0x900<=o<=0xDFF or 0xE00<=o<=0xE7F or 0x10A0<=o<=0x10FF: return 'indic'
    if 0x3400<=o<=0x4DBF or 0x4E00<=o<=0x9FFF or 0xF900<=o<=0xFAFF or 0x20000<=o<=0x2FFFF: return 'han'
    if 0x3040<=o<=0x30FF or 0x31F0<=o<=0x31FF or 0xFF66<=o<=0xFF9F: return 'kana'
    if 0xAC00<=o<=0xD7AF or 0x1100<=o<=0x11FF or 0x3130<=o<=0x318F: return 'hangul'
    if 0x1F000<=o<=0x1FAFF or 0x2600<=o<=0x27BF or 0x2B00<=o<=0x2BFF or 0x1F3FB<=o<=0x1F3FF or 0xE0000<=o<=0xE007F: return 'emoji'
    if o in (0x200D, 0xFE0F, 0xFE0E): return 'joiner'
    return 'sym'

LETTERS={'l','u','X','greek','cyr','arab','indic'}
FEATS=['words','excess','cap','allcaps','camel','accent','greek','cyr','arab','indic','han','kana','hangul','emoji','joiner','sym','digits','punct','punctx','nl','spaceruns','spacedigit']
KNOT=int(os.environ.get('KNOT','6'))
def features(text):
    f=dict.fromkeys(FEATS,0.0)
    i=0; n=len(text); prev=None
    while i<n:
        k=cls(text[i])
        if k in LETTERS:
            j=i; ascii_n=0; up=0; camel=0; last=None; first_upper = k=='u'
            while j<n and cls(text[j]) in LETTERS:
                kj=cls(text[j])
                if kj in ('l','u','X'):
                    ascii_n+=1
                    if kj=='X': f['accent']+=1
                    if kj=='u':
                        up+=1
                        if last=='l': camel+=1
                else:
                    f[kj]+=1
                last=kj; j+=1
            if ascii_n:
                f['words']+=1; f['excess']+=max(0,ascii_n-KNOT)
                if up==ascii_n and ascii_n>1: f['allcaps']+=ascii_n
                elif first_upper: f['cap']+=1
                f['camel']+=camel
            i=j; prev='word'; continue
        if k=='D':
            j=i
            while j<n and cls(text[j])=='D': j+=1
            f['digits']+=math.ceil((j-i)/3)
            if prev=='space1': f['spacedigit']+=1
            i=j; prev='D'; continue
        if k=='P':
            j=i
            while j<n and cls(text[j])=='P': j+=1
            f['punct']+=1; f['punctx']+=j-i-1
            i=j; prev='P'; continue
        if k=='NL':
            j=i
            while j<n and cls(text[j]) in ('NL',): j+=1
            if prev!='P': f['nl']+=1
            i=j; prev='NL'; continue
        if k in ('SP','WS'):
            j=i
            while j<n and cls(text[j]) in ('SP','WS'): j+=1
            if j-i>1 or k=='WS': f['spaceruns']+=1; prev='spaces'
            else: prev='space1'
            i=j; continue
        f[k]+=1; i+=1; prev=k
    return f

def load_corpus(d):
    out=[]
    for p in sorted(glob.glob(d+'/*.txt')):
        t=open(p,encoding='utf-8').read()
        out.append((os.path.basename(p),t))
    return out

corpus=load_corpus(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus'))
extra=[]
random.seed(1)
files=sorted(glob.glob('/usr/lib/python3.11/*.py'))
for f in random.sample(files,40):
    t=open(f,encoding='utf-8').read()
    s=random.randrange(0,max(1,len(t)-3000)); extra.append(('py:'+os.path.basename(f),t[s:s+3000]))
lic=sorted(glob.glob('/usr/share/common-licenses/*'))
for f in lic:
    t=open(f,encoding='utf-8',errors='ignore').read()
    s=len(t)//3; extra.append(('lic:'+os.path.basename(f),t[s:s+3000]))
samples=corpus+extra
T={n:np.array([len(e.encode(t,disallowed_special=())) for _,t in samples],float) for n,e in enc.items()}
target=np.sqrt(T['cl100k_base']*T['o200k_base'])
FIXED={'emoji':2.0,'joiner':1.0}
X=np.array([[features(t)[k] for k in FEATS] for _,t in samples])
w=1/np.maximum(target,5)
ext_w = np.array([1.0 if ':' not in name else 0.5 for name,_ in samples])
A=X*(w*ext_w)[:,None]; b=target*w*ext_w
fixed_idx=[FEATS.index(k) for k in FIXED]; free=[i for i in range(len(FEATS)) if i not in fixed_idx]
fixed_vec=np.zeros(len(FEATS))
for k,v in FIXED.items(): fixed_vec[FEATS.index(k)]=v
def solve(A,b,X,rows):
    bb=b[rows]-(A[rows]@fixed_vec)
    c,_=nnls(A[rows][:,free],bb); full=fixed_vec.copy(); full[free]=c; return full
coef=solve(A,b,X,np.arange(len(samples)))
loo=np.zeros(len(corpus))
for i in range(len(corpus)):
    rows=np.array([r for r in range(len(samples)) if r!=i]); c=solve(A,b,X,rows); loo[i]=X[i]@c
for k,c in zip(FEATS,coef): print(f"{k:12s} {c:.3f}")
pred=X@coef
for n in enc:
    err=(pred-T[n])/T[n]
    ec=err[:len(corpus)]
    print(n,'corpus MAPE %.1f%% median %.1f%% bias %.1f%% worst %.1f%% %s'%(100*np.mean(abs(ec)),100*np.median(abs(ec)),100*np.mean(ec),100*ec[np.argmax(abs(ec))],corpus[np.argmax(abs(ec))][0]))
    el=(loo-T[n][:len(corpus)])/T[n][:len(corpus)]
    print(n,'LOO corpus MAPE %.1f%% median %.1f%% bias %.1f%%'%(100*np.mean(abs(el)),100*np.median(abs(el)),100*np.mean(el)))
    ee=err[len(corpus):]
    print(n,'extra MAPE %.1f%% bias %.1f%%'%(100*np.mean(abs(ee)),100*np.mean(ee)))
if '-v' in sys.argv:
    for i,(name,_) in enumerate(samples[:len(corpus)]):
        print(f"{name:28s} cl={T['cl100k_base'][i]:6.0f} o2={T['o200k_base'][i]:6.0f} est={pred[i]:7.1f} {100*(pred[i]-T['o200k_base'][i])/T['o200k_base'][i]:+6.1f}%")
CATS=[('english',('en-','chat-')),('code',('code-','json-','md-')),('numbers/ids',('num-','url-','hex-','b64-','rep-')),('european',('eu-',)),('cjk',('zh-','ja-','ko-')),('other scripts',('ru-','other-')),('emoji',('emoji-',))]
for n in enc:
    print(n)
    for cat,prefixes in CATS:
        idx=[i for i,(name,_) in enumerate(corpus) if name.startswith(prefixes)]
        e=(pred[idx]-T[n][idx])/T[n][idx]; el=(loo[idx]-T[n][idx])/T[n][idx]
        print(f"  {cat:14s} n={len(idx):2d} MAPE {100*np.mean(abs(e)):5.1f}% bias {100*np.mean(e):+5.1f}% worst {100*e[np.argmax(abs(e))]:+6.1f}%  LOO MAPE {100*np.mean(abs(el)):5.1f}%")
print(repr({k:round(float(c),3) for k,c in zip(FEATS,coef)}))
