"""The vocabulary of conditions, medications and treatments the health recognizer looks for.

Hand-compiled in 2025 from common chronic and sensitive conditions (including mental and sexual
health) and widely prescribed medications by generic and brand name. Lower case; multi-word
terms are matched word by word. Words with an everyday sense ("prep", "aids") are left out.
"""

from __future__ import annotations


def _terms(block: str) -> frozenset[str]:
    return frozenset(t.strip() for t in block.replace("\n", "|").split("|") if t.strip())


CONDITIONS: frozenset[str] = _terms(
    """
    diabetes|type 1 diabetes|type 2 diabetes|prediabetes|hypertension|hypotension|asthma|copd|cancer|
    carcinoma|lymphoma|leukemia|leukaemia|melanoma|tumor|tumour|metastatic|hiv|hepatitis|tuberculosis|
    depression|major depressive disorder|anxiety disorder|panic disorder|bipolar disorder|bipolar|
    schizophrenia|psychosis|ptsd|ocd|adhd|autism|dementia|alzheimer's|alzheimers|parkinson's|
    parkinsons|epilepsy|seizures|seizure|stroke|myocardial infarction|heart attack|heart failure|
    atrial fibrillation|arrhythmia|angina|coronary artery disease|chronic kidney disease|ckd|
    kidney failure|renal failure|cirrhosis|pneumonia|covid-19|covid|sepsis|obesity|anorexia|
    bulimia|eating disorder|substance use disorder|alcohol use disorder|opioid use disorder|
    alcoholism|addiction|multiple sclerosis|lupus|rheumatoid arthritis|osteoarthritis|arthritis|
    osteoporosis|crohn's|crohns|ulcerative colitis|celiac disease|coeliac disease|hypothyroidism|
    hyperthyroidism|migraine|migraines|chlamydia|gonorrhea|gonorrhoea|syphilis|herpes|hpv|pregnant|
    pregnancy|miscarriage|abortion|infertility|endometriosis|cystic fibrosis|sickle cell|hemophilia|
    anemia|anaemia|glaucoma|psoriasis|insomnia|sleep apnea|concussion|suicidal ideation|
    suicidal|self-harm|overdose|hyperlipidemia|high cholesterol|high blood pressure|gout|
    hypoglycemia|hyperglycemia|neuropathy|fibromyalgia|lupus nephritis|dvt|pulmonary embolism
    """
)

MEDICATIONS: frozenset[str] = _terms(
    """
    metformin|insulin|lisinopril|atorvastatin|simvastatin|rosuvastatin|amlodipine|losartan|metoprolol|
    atenolol|propranolol|hydrochlorothiazide|furosemide|warfarin|apixaban|rivaroxaban|clopidogrel|
    levothyroxine|omeprazole|pantoprazole|sertraline|fluoxetine|citalopram|escitalopram|paroxetine|
    venlafaxine|duloxetine|bupropion|mirtazapine|trazodone|lithium|quetiapine|olanzapine|risperidone|
    aripiprazole|haloperidol|clozapine|lamotrigine|valproate|levetiracetam|carbamazepine|gabapentin|
    pregabalin|alprazolam|lorazepam|diazepam|clonazepam|zolpidem|methylphenidate|adderall|ritalin|
    oxycodone|hydrocodone|morphine|fentanyl|tramadol|codeine|buprenorphine|suboxone|methadone|
    naloxone|naltrexone|prednisone|prednisolone|methotrexate|adalimumab|humira|infliximab|semaglutide|
    ozempic|wegovy|tirzepatide|mounjaro|empagliflozin|dapagliflozin|sitagliptin|glipizide|albuterol|
    salbutamol|fluticasone|montelukast|amoxicillin|azithromycin|doxycycline|ciprofloxacin|truvada|
    tenofovir|emtricitabine|dolutegravir|biktarvy|tamoxifen|letrozole|chemotherapy|chemo|
    radiotherapy|radiation therapy|immunotherapy|dialysis|sildenafil|finasteride|isotretinoin|
    accutane|estradiol|testosterone|xanax|prozac|zoloft|lexapro|wellbutrin|seroquel|abilify|
    lipitor|eliquis|xarelto|synthroid|keppra|lamictal|depakote|vyvanse|concerta
    """
)

TERMS: frozenset[str] = CONDITIONS | MEDICATIONS
# Longest term in words, so the matcher knows how far to look ahead.
MAX_TERM_WORDS: int = max(len(term.split()) for term in TERMS)
FIRST_WORDS: frozenset[str] = frozenset(term.split()[0] for term in TERMS)
